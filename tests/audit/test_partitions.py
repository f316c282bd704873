"""Monthly partitions of the events and seq-range partitions of the chain (PostgreSQL): made ahead by the owner,
each as protected as the first, checked by the beat and /readyz, and the seal still exact across them."""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from audit.chain.seal import seal
from audit.chain.verify import verify
from audit.models import AuditEvent, ChainEntry
from audit.partitions import (
    CHAIN_PARTITION_SIZE,
    PARTITION_SCHEMA,
    add_months,
    attached_partitions,
    chain_partition,
    lender_month,
    month_partition,
    partitions_status,
)
from audit.record import audit_record
from audit.tasks import audit_partitions_check
from tests.audit.conftest import raw, refused
from tests.audit.helpers import event_at

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql_only]


def months(first: datetime.date, count: int) -> list[str]:
    return [month_partition(add_months(first, n))[0] for n in range(count)]


def partition_of(event_id: int) -> str:
    return raw("SELECT tableoid::regclass::text FROM audit_auditevent WHERE id = %s", [event_id])[0][0]


def qualified(name: str) -> str:
    return f"{PARTITION_SCHEMA}.{name}"


def gin_index_options(table: str) -> list[list[str] | None]:
    """The storage parameters of the table's GIN indexes."""
    return [
        options
        for (options,) in raw(
            "SELECT i.reloptions FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid"
            " JOIN pg_am AS am ON am.oid = i.relam WHERE x.indrelid = %s::regclass AND am.amname = 'gin'",
            [table],
        )
    ]


def test_every_months_persons_index_answers_from_its_tree_with_no_pending_list() -> None:
    """A GIN pending list is read through by every search and merged by whichever insert fills it."""
    tables = sorted(attached_partitions("audit_auditevent"))
    assert len(tables) >= 4
    for table in tables:
        assert gin_index_options(qualified(table)) == [["fastupdate=off"]], table


def test_the_events_are_partitioned_by_month_and_migrate_made_the_coming_months() -> None:
    assert raw("SELECT relkind FROM pg_class WHERE relname = 'audit_auditevent'") == [("p",)]
    assert raw("SELECT relkind FROM pg_class WHERE relname = 'audit_chainentry'") == [("p",)]
    this_month = lender_month()
    assert set(months(this_month, 4)) <= attached_partitions("audit_auditevent")
    assert {chain_partition(0)[0], chain_partition(1)[0]} <= attached_partitions("audit_chainentry")
    event = audit_record(action="view")
    assert partition_of(event.pk) == qualified(month_partition(this_month)[0])
    # The primary key includes the partition key.
    assert raw(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'audit_auditevent'::regclass"
        " AND contype = 'p'"
    ) == [("PRIMARY KEY (id, occurred_at)",)]


def test_a_month_is_bounded_in_the_lenders_time_zone() -> None:
    name, start, end = month_partition(datetime.date(2027, 1, 1))
    assert name == "audit_auditevent_y2027m01"
    assert (start.isoformat(), end.isoformat()) == ("2027-01-01T00:00:00+08:00", "2027-02-01T00:00:00+08:00")
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_audit_partitions_makes_the_months_ahead_once(capsys) -> None:
    this_month = lender_month()
    call_command("audit_partitions", "--ahead", "6")
    made = capsys.readouterr().out
    for name in months(add_months(this_month, 4), 3):
        assert f"made {name}" in made
    assert set(months(this_month, 7)) <= attached_partitions("audit_auditevent")
    call_command("audit_partitions", "--ahead", "6")
    assert capsys.readouterr().out.strip() == f"ok through {add_months(this_month, 6):%Y-%m} (0 made)"


def test_a_new_partition_is_as_protected_as_the_first(audit_keys) -> None:
    this_month = lender_month()
    first = qualified(month_partition(this_month)[0])
    call_command("audit_partitions", "--ahead", "8")
    newest = qualified(month_partition(add_months(this_month, 8))[0])

    def protection(table: str) -> dict:
        return {
            "fillfactor": raw("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])[0][0],
            "row triggers": sorted(
                name
                for (name,) in raw(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgtype & 1 = 1", [table]
                )
            ),
            "truncate triggers": raw(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgtype & 32 = 32", [table]
            )[0][0],
            "indexes": raw("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [table])[0][0],
            "gin indexes": gin_index_options(table),
            "grants beyond the owner": raw(
                "SELECT count(*) FROM pg_class AS c, aclexplode(c.relacl) AS a"
                " WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
                [table],
            )[0][0],
        }

    assert protection(newest) == protection(first)
    assert protection(newest)["fillfactor"] == ["fillfactor=50"]
    assert protection(newest)["truncate triggers"] == 1 and protection(newest)["indexes"] == 7
    assert protection(newest)["gin indexes"] == [["fastupdate=off"]]
    # And in deed: an event of that month is refused every change but its seal, through the table or directly.
    event = event_at(add_months(this_month, 8) + datetime.timedelta(days=3), action="view")
    assert partition_of(event.pk) == newest
    assert refused("UPDATE audit_auditevent SET action = 'list' WHERE id = %s", [event.pk])
    assert refused(f"UPDATE {newest} SET action = 'list' WHERE id = %s", [event.pk])  # noqa: S608
    assert refused(f"DELETE FROM {newest}")  # noqa: S608
    assert refused(f"TRUNCATE {newest}")
    assert refused(f"UPDATE {newest} SET seq = 1, purpose = 'x' WHERE id = %s", [event.pk])  # noqa: S608
    assert seal().sealed == 2
    assert refused(f"UPDATE {newest} SET seq = 5 WHERE id = %s", [event.pk])  # noqa: S608
    assert verify().ok


def test_the_seal_tells_rows_of_different_partitions_at_the_same_ctid_apart(audit_keys) -> None:
    # The first row of each month's partition sits at the same ctid, (0,1): the seal must update exactly the
    # row version it numbered, in its own partition.
    this_month = lender_month()
    events = [
        event_at(add_months(this_month, n) + datetime.timedelta(days=1), action="view", object_id=str(n))
        for n in (5, 6, 7)
    ]
    ctids = {raw("SELECT ctid::text FROM audit_auditevent WHERE id = %s", [event.pk])[0][0] for event in events}
    assert ctids == {"(0,1)"}
    assert seal().sealed == 4
    sealed = dict(AuditEvent.objects.filter(id__in=[event.pk for event in events]).values_list("id", "seq"))
    assert sorted(sealed.values()) == [1, 2, 3]
    for event_id, seq in sealed.items():
        assert ChainEntry.objects.get(seq=seq).event_id == event_id
    assert verify().ok


def test_chain_entries_are_partitioned_by_seq_range(audit_keys) -> None:
    audit_record(action="view")
    seal()
    assert raw("SELECT DISTINCT tableoid::regclass::text FROM audit_chainentry") == [
        (qualified(chain_partition(0)[0]),)
    ]
    name, lower, upper = chain_partition(3)
    assert (lower, upper) == (3 * CHAIN_PARTITION_SIZE, 4 * CHAIN_PARTITION_SIZE)
    assert chain_partition(0)[1] is None  # the first one has no lower bound: any seq is verify's to judge


def test_readyz_and_the_beat_report_a_short_month(client: Client, caplog) -> None:
    assert partitions_status() == "ok"
    assert client.get("/readyz").json()["audit_partitions"] == "ok"
    assert "audit.tasks.audit_partitions_check" in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    next_month = month_partition(add_months(lender_month(), 1))[0]
    raw(f"ALTER TABLE audit_auditevent DETACH PARTITION {qualified(next_month)}")
    assert partitions_status() == "short"
    response = client.get("/readyz")
    assert (response.status_code, response.json()["audit_partitions"]) == (200, "short")
    assert audit_partitions_check() == "short"
    assert "audit_partitions" in caplog.text


def test_the_seal_batch_never_compiles_itself_with_jit(audit_keys) -> None:
    # Planned with its arguments as parameters, the batch is priced as a share of the whole log; at ten million
    # events that price passed jit_above_cost and each batch of 2,000 spent a second compiling (bench_audit_scale).
    settings_of_function = raw(
        "SELECT proconfig FROM pg_proc WHERE oid = 'audit_seal_batch(bigint, bigint, bigint)'::regprocedure"
    )[0][0]
    assert "jit=off" in settings_of_function
    # And sealing still works under a session that would JIT everything it can.
    audit_record(action="view", object_type="loanaccount", object_id=1)
    raw("SET jit_above_cost = 0")
    try:
        assert seal().sealed == 2  # the event and the seal's own checkpoint event
    finally:
        raw("RESET jit_above_cost")
