"""`person_key` names a person in an event's `persons` as the auditor's `person` filter and the URLs read it."""

import pytest

from audit.forms import PERSON_RE
from audit.record import person_key


@pytest.mark.parametrize(("kind", "object_id", "key"), [("borrower", 7, "borrower:7"), ("contact", 12, "contact:12")])
def test_person_key_is_kind_colon_id(kind: str, object_id: int, key: str) -> None:
    assert person_key(kind, object_id) == key
    assert PERSON_RE.match(key)


@pytest.mark.parametrize("kind", ["loanaccount", "Borrower", "", "borrower:1"])
def test_person_key_refuses_any_other_kind(kind: str) -> None:
    with pytest.raises(ValueError, match="borrower or a contact"):
        person_key(kind, 1)
