"""Detaching an archived month from the database (PostgreSQL), four-eyed, never under a legal hold.

An auditor requests the detach of a month that is over (`detach_request`), a second auditor decides it
(`detach_decide`); then the schema owner runs `audit_partitions --detach YYYY-MM --archive DIR`
(`month_detach`), which detaches the month's partition only when: the request was approved; the archive of
that month in DIR verifies offline and is complete; the partition holds exactly the events the archive lists
(the same seqs, none unsealed) and the chain holds exactly its entries; and no standing legal hold covers a
person any of its events names. The month's manifest is then kept in the checkpoint sink (`detached/`), where
a full verify finds it and accepts that those seqs' events are no longer in the database; the detach itself
is an `archive_written` event. The detached table is left to the owner to drop once the archive is stored.
"""

import datetime
import hashlib

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils.translation import gettext as _

from audit.chain.archive import MONTH_RUNS_SQL, entry_lines
from audit.chain.archive_check import month_check
from audit.chain.manifest import Manifest
from audit.chain.verify import DETACHED_FOLDER
from audit.models import DetachDecision, DetachRequest
from audit.notes import public_key
from audit.partitions import PARTITION_SCHEMA, attached_partitions, is_partitioned, lender_month, month_partition
from audit.record import audit_record
from audit.selectors import held_persons
from audit.sinks import CheckpointSink, default_sink


class DetachRefused(RuntimeError):
    """The month may not be detached (yet): the reason says why."""


class DetachDecided(ValueError):
    """The request was decided already: a request is decided once."""


def _held_in(month: datetime.date, using: str = "default") -> bool:
    """Whether a standing legal hold covers a person some event of the month names."""
    held = sorted(held_persons())
    if not held:
        return False
    _, start, end = month_partition(month)
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM audit_auditevent WHERE occurred_at >= %s AND occurred_at < %s"
            " AND persons @> ANY(%s::jsonb[]))",
            [start, end, [f'["{person}"]' for person in held]],
        )
        return cursor.fetchone()[0]


def months_in_database(using: str = "default") -> list[str]:
    """The months (YYYY-MM) whose events are in the database (PostgreSQL: attached partitions), oldest first."""
    if not is_partitioned(using):
        return []
    names = sorted(attached_partitions("audit_auditevent", using))
    return [f"{name[-7:-3]}-{name[-2:]}" for name in names]


def detach_request(*, user: AbstractBaseUser, role: str, month: datetime.date, reason: str) -> DetachRequest:
    """Ask to detach a month that is over and still in the database (recorded as `archive_detach_requested`);
    ValidationError when it may not be asked for."""
    if not is_partitioned():
        raise ValidationError(_("This database keeps the log in one table: there is no month to detach."))
    if month >= lender_month():
        raise ValidationError(_("Only a month that is over can be detached."))
    if month_partition(month)[0] not in attached_partitions("audit_auditevent"):
        raise ValidationError(_("That month is not in the database."))
    if _held_in(month):
        raise ValidationError(_("A legal hold covers someone in that month."))
    with transaction.atomic():
        pending = DetachRequest.objects.filter(month=month)
        if pending.filter(decision__isnull=True).exists() or pending.filter(decision__approved=True).exists():
            raise ValidationError(_("That month already has an open or approved request."))
        request = DetachRequest(month=month, reason=reason, requested_by=user.get_username())
        request.full_clean()
        request.save()
        audit_record(
            action="archive_detach_requested",
            actor=user,
            role=role,
            object_type="detachrequest",
            object_id=request.pk,
            detail={"month": f"{month:%Y-%m}"},
        )
    return request


def detach_decide(*, user: AbstractBaseUser, role: str, request_id: int, approve: bool, reason: str) -> DetachDecision:
    """A second auditor's decision (`archive_detach_approved` or `_rejected`); DetachRequest.DoesNotExist for an
    unknown request, DetachDecided for one decided already, PermissionError for the requester's own."""
    with transaction.atomic():
        request = DetachRequest.objects.select_for_update().get(pk=request_id)
        if DetachDecision.objects.filter(request=request).exists():
            raise DetachDecided(f"detach request {request_id} was decided already")
        if request.requested_by == user.get_username():
            raise PermissionError("the requester of a detach cannot decide it")
        decision = DetachDecision(request=request, approved=approve, reason=reason, decided_by=user.get_username())
        decision.full_clean()
        decision.save()
        audit_record(
            action="archive_detach_approved" if approve else "archive_detach_rejected",
            actor=user,
            role=role,
            object_type="detachrequest",
            object_id=request.pk,
            detail={"month": f"{request.month:%Y-%m}"},
        )
    return decision


def _partition_matches(month: datetime.date, manifest: Manifest, using: str) -> str | None:
    """Why the month's partition does not hold exactly the archived events and entries, if it does not."""
    _, start, end = month_partition(month)
    with connections[using].cursor() as cursor:
        cursor.execute(MONTH_RUNS_SQL, [start, end, 1 << 62])  # every sealed event
        runs = tuple((first, last) for first, last, _ in cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM audit_auditevent WHERE occurred_at >= %s AND occurred_at < %s AND seq IS NULL",
            [start, end],
        )
        unsealed = cursor.fetchone()[0]
    if unsealed or runs != manifest.runs:
        return "the month's events in the database are not those archived (late or unsealed events?)"
    digest = hashlib.sha256()
    with transaction.atomic():
        for line in entry_lines(runs):
            digest.update(line)
    if digest.hexdigest() != manifest.events_sha256:
        return "the chain entries in the database are not those archived"
    return None


def month_detach(
    *, month: datetime.date, archive: CheckpointSink, using: str, sink: CheckpointSink | None = None
) -> int:
    """As the schema owner (`using`): detach one month whose detach was approved, once every condition holds
    (module docstring); the number of events it takes out of the database. DetachRefused otherwise."""
    name = month_partition(month)[0]
    if not is_partitioned(using) or name not in attached_partitions("audit_auditevent", using):
        raise DetachRefused(f"{month:%Y-%m} is not a month in the database")
    request = DetachRequest.objects.filter(month=month, decision__approved=True).order_by("-id").first()
    if request is None:
        raise DetachRefused(f"no approved detach request for {month:%Y-%m}")
    check = month_check(archive, f"{month:%Y-%m}", public_key())
    if not check.ok or not check.manifest.complete:
        raise DetachRefused(f"the archive of {month:%Y-%m} does not verify or is not complete: {check.reasons}")
    if problem := _partition_matches(month, check.manifest, using):
        raise DetachRefused(problem)
    if _held_in(month, using):
        raise DetachRefused(f"a legal hold covers someone in {month:%Y-%m}")
    # The manifest goes beside the checkpoints first: a full verify then accepts these seqs' events gone.
    manifest_text = archive.read(f"{month:%Y-%m}/manifest.txt")
    (sink or default_sink()).write(f"{DETACHED_FOLDER}/{month:%Y-%m}.txt", manifest_text)
    with connections[using].cursor() as cursor:
        cursor.execute(f"ALTER TABLE audit_auditevent DETACH PARTITION {PARTITION_SCHEMA}.{name}")
    with transaction.atomic(using=connection.alias):
        audit_record(
            action="archive_written",
            object_type="auditmonth",
            object_id=f"{month:%Y-%m}",
            detail={"request": request.pk, "events": check.events, "manifest": check.manifest.events_sha256},
        )
    return check.events
