"""The seal guard, tested on every column of audit_auditevent as PostgreSQL holds it, against the installed trigger.

The columns come from the database catalog, not from a list in the code or a migration: a column added
later, or one left out of the trigger's WHEN clause, makes this test fail. For each column but `seq`:
(a) the seal's update (seq from NULL) that also changes that column is refused, and (b) once the row is
sealed, an update of that column is refused.
"""

import pytest

from audit.context import RequestContext, reset_context, set_context
from audit.record import audit_record
from tests.audit.conftest import raw, refused
from tests.factories import make_user

pytestmark = pytest.mark.django_db

# A value different from the column's current one, by the column's type (NULL becomes a value, a value
# something else): each keyed by PostgreSQL's `format_type`.
CHANGED = {
    "bigint": "COALESCE({column} + 1000000, 1)",
    "integer": "COALESCE({column} + 1000000, 1)",
    "character varying": "COALESCE({column} || 'x', 'x')",
    "text": "COALESCE({column} || 'x', 'x')",
    "jsonb": "COALESCE(jsonb_build_array({column}), '[]'::jsonb)",
    "timestamp with time zone": "COALESCE({column} + interval '1 second', now())",
    "inet": "COALESCE({column} + 1, '10.0.0.1'::inet)",
}


def catalog_columns() -> list[tuple[str, str]]:
    """(name, type) of every live column of audit_auditevent, from pg_attribute."""
    return [
        (name, column_type)
        for name, column_type in raw(
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = 'audit_auditevent'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        )
    ]


def changed(column: str, column_type: str) -> str:
    """SQL giving `column` a value other than the one it holds."""
    assert column_type in CHANGED, f"column {column} of type {column_type}: teach this test to change it"
    return CHANGED[column_type].format(column=column)


def an_event_with_every_column_filled() -> int:
    """An unsealed event with every column set (request id and IP from a request context)."""
    actor = make_user("frank")
    token = set_context(RequestContext(request_id="r-1", ip="10.0.0.2", user_id=actor.pk, username="frank"))
    try:
        event = audit_record(
            action="view",
            actor=actor,
            role="case_officer",
            object_type="loanaccount",
            object_id=1,
            persons=["borrower:1"],
            fields=["name"],
            purpose="call_borrower",
            detail={"k": "v"},
        )
    finally:
        reset_context(token)
    return event.pk


@pytest.mark.parametrize("state", ["being_sealed", "sealed"])
def test_no_column_but_seq_can_change_past_the_installed_trigger(state: str) -> None:
    columns = [(name, column_type) for name, column_type in catalog_columns() if name != "seq"]
    assert len(columns) >= 10, columns  # the catalog was read, not an empty relation
    event_id = an_event_with_every_column_filled()
    if state == "sealed":
        raw("UPDATE audit_auditevent SET seq = 1 WHERE id = %s", [event_id])
        statement = "UPDATE audit_auditevent SET {column} = {value} WHERE id = %s"
    else:
        statement = "UPDATE audit_auditevent SET seq = 1, {column} = {value} WHERE id = %s"
    let_through = [
        column
        for column, column_type in columns
        if not refused(statement.format(column=column, value=changed(column, column_type)), [event_id])
    ]
    assert not let_through, f"the trigger lets these columns change ({state}): {let_through}"
    # The refusals came from the trigger, not from the statement: the seal itself still goes through.
    if state == "being_sealed":
        raw("UPDATE audit_auditevent SET seq = 1 WHERE id = %s", [event_id])
    assert raw("SELECT seq FROM audit_auditevent WHERE id = %s", [event_id]) == [(1,)]
