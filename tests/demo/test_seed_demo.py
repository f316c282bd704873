"""seed_demo: the contract's demo users and data, each officer with a caseload, and a second run creating nothing.

It runs only with DEBUG on (exit 2 otherwise) and never changes a user that exists already.
"""

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.roles import CASE_OFFICER, COMPLIANCE_AUDITOR, RISK_APPROVER, TEAM_LEAD, user_roles
from audit.models import AuditEvent
from collections_app.dpd import bucket_for, days_past_due, lender_today
from collections_app.models import (
    Borrower,
    Contact,
    Interaction,
    LoanAccount,
    LoanAccountUserObjectPermission,
    Payment,
    Portfolio,
    PromiseToPay,
)
from demo import accounts as demo
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def debug_on(settings) -> None:
    """The demo's published credentials belong on a debug machine: every seed here runs with DEBUG on."""
    settings.DEBUG = True


def seed(*extra: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *extra, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows in every table the app owns (and users, groups, permissions, audit events)."""
    labels = {"collections_app", "review", "audit", "auth", "guardian", "otp_totp", "otp_static", "access"}
    return {model._meta.label: model.objects.count() for model in apps.get_models() if model._meta.app_label in labels}


@pytest.mark.django_db
@override_settings(DEMO_PASSWORD="another-demo-pass-1")
def test_seed_creates_the_contract_users_with_their_roles_and_the_demo_password() -> None:
    seed()

    expected = {
        "officer1": {CASE_OFFICER},
        "officer2": {CASE_OFFICER},
        "approver1": {RISK_APPROVER},
        "approver2": {RISK_APPROVER},
        "auditor1": {COMPLIANCE_AUDITOR},
        "lead1": {TEAM_LEAD},
        "admin": set(),
        "admin2": set(),
    }
    for username, roles in expected.items():
        user = User.objects.get(username=username)
        assert user.check_password("another-demo-pass-1"), username
        assert user.is_active
        assert set(user_roles(user)) == roles
    assert User.objects.get(username="admin").is_superuser and User.objects.get(username="admin2").is_superuser
    assert not User.objects.get(username="officer1").is_superuser


@pytest.mark.django_db
def test_seed_spreads_at_least_200_borrowers_over_dpd_minus_3_to_200() -> None:
    seed()

    assert Borrower.objects.count() >= 200
    today = lender_today()
    dpds = [days_past_due(a.oldest_unpaid_due_date, today) for a in LoanAccount.objects.all()]
    owing = [dpd for dpd in dpds if dpd is not None]
    assert min(owing) == -3 and max(owing) == 200
    assert {bucket_for(dpd).code for dpd in owing} == {"current", "1-30", "31-60", "61-90", "91-180", "181+"}
    assert all(-3 <= dpd <= 200 for dpd in owing)
    # Every borrower has at least one account.
    assert not Borrower.objects.filter(accounts__isnull=True).exists()


@pytest.mark.django_db
def test_each_demo_officer_has_their_own_caseload_through_object_permissions() -> None:
    seed()

    officer1, officer2 = User.objects.get(username="officer1"), User.objects.get(username="officer2")
    for officer in (officer1, officer2):
        accounts = LoanAccount.objects.filter(officer=officer)
        assert accounts.count() >= 50
        granted = set(
            LoanAccountUserObjectPermission.objects.filter(user=officer).values_list("content_object_id", flat=True)
        )
        assert granted == set(accounts.values_list("pk", flat=True))
    assert not LoanAccount.objects.filter(officer=officer1).filter(officer=officer2).exists()


@pytest.mark.django_db
def test_seed_holds_portfolios_contacts_payments_promises_and_interactions() -> None:
    seed()

    profiles = set(Portfolio.objects.values_list("policy_profile__code", flat=True))
    assert {"cn-default", "us-regf"} <= profiles
    assert Portfolio.objects.filter(code="cn-consumer", policy_profile__code="cn-default").exists()
    assert Contact.objects.count() >= 200
    family = Contact.objects.filter(relationship__in=["spouse", "parent", "sibling", "child", "relative"])
    assert family.filter(consent_at__isnull=False).exclude(consent_basis="").exists()
    assert Payment.objects.count() > 0
    assert PromiseToPay.objects.count() > 0
    assert Interaction.objects.filter(outcome=Interaction.Outcome.NO_ANSWER).count() > 0
    # The generated accounts came in through the importer: each creation is audited as the seed's.
    generated = LoanAccount.objects.filter(borrower__external_ref__startswith=demo.DEMO_BORROWER_PREFIX)
    generated_ids = [str(pk) for pk in generated.values_list("pk", flat=True)]
    created = AuditEvent.objects.filter(action="create", object_type="loanaccount", object_id__in=generated_ids)
    assert created.count() == generated.count()
    assert {event.detail["source"] for event in created} == {"seed_demo"}


@pytest.mark.django_db
def test_seed_includes_the_family_contact_accounts_in_officer1s_caseload_and_totp_devices() -> None:
    seed()

    officer1 = User.objects.get(username="officer1")
    numbers = set(LoanAccount.objects.filter(officer=officer1).values_list("account_number", flat=True))
    assert {f"DEMO-E{n}" for n in (1, 2, 3)} | {f"DEMO-N{n}" for n in (1, 2, 3, 4)} <= numbers
    devices = set(TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True))
    assert devices == {"approver1", "approver2", "auditor1", "lead1", "admin", "admin2"}


@pytest.mark.django_db
def test_seed_puts_lead1s_team_together_and_leaves_admin2_an_access_change_to_decide() -> None:
    from access.models import AccessChange, Team

    seed()

    team = Team.objects.get(lead__username="lead1")
    assert set(team.members.values_list("username", flat=True)) == {"officer1", "officer2"}
    change = AccessChange.objects.get(status="pending")
    assert change.requested_by.username == "admin" and change.user.username != "admin2"
    assert change.kind in AccessChange.Kind.values


@pytest.mark.django_db
def test_second_seed_creates_nothing() -> None:
    seed()
    before = row_counts()

    seed()

    assert row_counts() == before


@pytest.mark.django_db
def test_if_empty_leaves_a_database_with_users_alone(officer: User) -> None:
    out = seed("--if-empty")

    assert not LoanAccount.objects.exists()
    assert not User.objects.filter(username="officer1").exists()
    assert "no demo data" in out


@pytest.mark.django_db
def test_seed_with_debug_off_exits_2_and_creates_nothing(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError) as refused:
        seed()
    assert refused.value.returncode == 2
    assert "DEBUG" in str(refused.value)
    assert not User.objects.exists() and not LoanAccount.objects.exists()


def test_manage_py_seed_demo_with_debug_off_exits_2(tmp_path: Path) -> None:
    database = tmp_path / "refused.sqlite3"
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "TEST_DB_NAME"}}
    env.update(DEBUG="0", SECRET_KEY="seed-refusal-test", SQLITE_PATH=str(database))
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "DEBUG" in result.stderr
    # Refused before touching the database: not even a table was created.
    if database.exists():
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


@pytest.mark.django_db
def test_seed_never_changes_an_existing_user() -> None:
    own_admin = User.objects.create_superuser("admin", "ops@example.com", "admins-own-pass-2026")
    own_officer = make_user("officer1", CASE_OFFICER, password="officers-own-pass-2026")
    before = {
        user.username: (user.password, user.email, user.is_staff, set(user_roles(user)))
        for user in (own_admin, own_officer)
    }

    seed()

    for user in (User.objects.get(username="admin"), User.objects.get(username="officer1")):
        assert (user.password, user.email, user.is_staff, set(user_roles(user))) == before[user.username]
        assert not user.teams.exists()
    # No published secret beside (or instead of) a real administrator's authenticator.
    assert not TOTPDevice.objects.filter(user__username="admin").exists()
    # Nothing is filed in the existing admin's name; the new users got their demo credentials.
    from access.models import AccessChange

    assert not AccessChange.objects.filter(requested_by__username="admin").exists()
    assert User.objects.get(username="admin2").check_password(settings.DEMO_PASSWORD)
    assert TOTPDevice.objects.filter(user__username="admin2", confirmed=True).exists()
