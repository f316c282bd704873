"""Other apps' parts of the caseload and account page come from the providers ACCOUNT_PAGE_PANELS names."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings

from collections_app.panels import account_panels
from tests.conftest import signed_in
from tests.factories import make_account

pytestmark = pytest.mark.django_db
# collections_app leans on neither: review adds its parts through the providers, demo seeds from outside.
FORBIDDEN = {"review", "demo"}


def test_review_provides_the_family_contact_column_and_section(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)

    empty = client.get("/cases/", {"q": "no-such-account"}).content.decode()
    page = client.get(f"/cases/{account.pk}/").content.decode()

    assert [type(panel).__name__ for panel in account_panels()] == ["FamilyContactPanel"]
    assert 'colspan="9"' in empty
    assert f"/cases/{account.pk}/family-contact/new/" in page


@override_settings(ACCOUNT_PAGE_PANELS=[])
def test_without_providers_the_pages_have_no_family_contact_parts(officer: User) -> None:
    account = make_account(officer)
    client = signed_in(officer)

    empty = client.get("/cases/", {"q": "no-such-account"}).content.decode()
    page = client.get(f"/cases/{account.pk}/").content.decode()

    assert account_panels() == ()
    assert 'colspan="8"' in empty
    assert "family-contact" not in page


def test_collections_app_imports_nothing_from_review_or_demo() -> None:
    root = Path(settings.BASE_DIR) / "collections_app"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(root)}: {name}" for name in names if name.split(".")[0] in FORBIDDEN]
    assert offenders == []
