"""Writes of the audit log besides events: sealing the chain, running and recording verify runs, legal holds."""

import datetime
import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.chain.anchors import anchor_write
from audit.chain.incremental import verify_incremental
from audit.chain.seal import SealResult, seal
from audit.chain.verify import VerifyResult, verify
from audit.models import LegalHold, LegalHoldLift, VerificationRun
from audit.record import audit_record
from audit.sinks import CheckpointSink, default_sink

logger = logging.getLogger(__name__)


def audit_chain_seal(*, sink: CheckpointSink | None = None) -> SealResult:
    """Seal every pending event into the chain and write a signed checkpoint (one sealer at a time)."""
    result = seal(sink=sink)
    if result.sealed:
        logger.info("audit: sealed %d events, tree size %d", result.sealed, result.tree_size)
    return result


def verification_run_record(
    *, result: VerifyResult, started_at: datetime.datetime, requested_by: str = ""
) -> VerificationRun:
    """Keep the outcome of one verify run for /audit/verify/."""
    with transaction.atomic():
        run = VerificationRun(
            kind=result.kind,
            after_seq=result.after,
            requested_by=requested_by,
            started_at=started_at,
            ok=result.ok,
            events_checked=result.events,
            checkpoints_checked=result.checkpoints,
            first_bad_seq=result.first_bad_seq,
            bad_checkpoints=result.bad_checkpoints,
            summary="\n".join([*result.notes, *result.reasons])[:10_000],
        )
        run.full_clean()
        run.save()
    return run


def audit_chain_verify(
    *, incremental: bool = False, full: bool = False, requested_by: str = "", sink: CheckpointSink | None = None
) -> VerifyResult:
    """Run one verification (the whole chain, or with `incremental` only what was sealed since the last
    verified checkpoint; `full` rebuilds every row's entry), keep its result, and when the chain holds,
    record in the checkpoint sink the newest checkpoint it confirmed, where the next incremental run starts."""
    sink = sink or default_sink()
    started_at = timezone.now()
    result = verify_incremental(sink=sink) if incremental else verify(sink=sink, full=full)
    verification_run_record(result=result, started_at=started_at, requested_by=requested_by)
    if result.verified is not None:
        size, frontier, chain_hash = result.verified
        anchor_write(sink, size=size, frontier=frontier, chain_hash=chain_hash, kind=result.kind, at=timezone.now())
    return result


def verification_request(*, user: AbstractBaseUser, role: str, kind: str) -> None:
    """Record that an auditor asked for a verify run of `kind` (the caller then starts it as a task)."""
    with transaction.atomic():
        audit_record(
            action="verify_requested", actor=user, role=role, object_type="verificationrun", detail={"kind": kind}
        )


class LegalHoldLifted(ValueError):
    """The hold was lifted already: a hold is lifted once."""


def legal_hold_set(*, user: AbstractBaseUser, role: str, person: str, reason: str) -> LegalHold:
    """Put one person's events under a legal hold (recorded as `legal_hold_set`, without the reason's text)."""
    with transaction.atomic():
        hold = LegalHold(person=person, reason=reason, set_by=user.get_username())
        hold.full_clean()
        hold.save()
        audit_record(
            action="legal_hold_set", actor=user, role=role, object_type="legalhold", object_id=hold.pk, persons=[person]
        )
    return hold


def legal_hold_lift(*, user: AbstractBaseUser, role: str, hold_id: int, reason: str) -> LegalHoldLift:
    """Lift a standing legal hold (recorded as `legal_hold_lifted`); LegalHold.DoesNotExist for an unknown hold,
    LegalHoldLifted for one lifted already."""
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold_id)
        if LegalHoldLift.objects.filter(hold=hold).exists():
            raise LegalHoldLifted(f"legal hold {hold_id} was lifted already")
        lift = LegalHoldLift(hold=hold, reason=reason, lifted_by=user.get_username())
        lift.full_clean()
        lift.save()
        audit_record(
            action="legal_hold_lifted",
            actor=user,
            role=role,
            object_type="legalhold",
            object_id=hold.pk,
            persons=[hold.person],
        )
    return lift
