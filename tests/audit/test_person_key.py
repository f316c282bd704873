"""`person_key` names a person in an event's `persons` as the auditor's `person` filter and the URLs read it."""

import pytest
from django.db import connection

from audit.forms import PERSON_RE
from audit.record import person_key, person_key_sql


@pytest.mark.parametrize(("kind", "object_id", "key"), [("borrower", 7, "borrower:7"), ("contact", 12, "contact:12")])
def test_person_key_is_kind_colon_id(kind: str, object_id: int, key: str) -> None:
    assert person_key(kind, object_id) == key
    assert PERSON_RE.match(key)


@pytest.mark.parametrize("kind", ["loanaccount", "Borrower", "", "borrower:1"])
def test_person_key_refuses_any_other_kind(kind: str) -> None:
    with pytest.raises(ValueError, match="borrower or a contact"):
        person_key(kind, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "object_id"), [("borrower", 7), ("contact", 1234567890123)])
def test_the_sql_form_gives_the_same_key(kind: str, object_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {person_key_sql(kind, 'ids.id')} FROM (SELECT %s AS id) ids", [object_id])  # noqa: S608
        assert cursor.fetchone()[0] == person_key(kind, object_id)


def test_the_sql_form_refuses_any_other_kind() -> None:
    with pytest.raises(ValueError, match="borrower or a contact"):
        person_key_sql("loanaccount", "ids.id")
