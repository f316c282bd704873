"""Writes of the audit log besides events: sealing the chain and recording verify runs."""

import datetime
import logging

from django.db import transaction

from audit.chain.seal import SealResult, seal
from audit.chain.verify import VerifyResult
from audit.models import VerificationRun
from audit.sinks import CheckpointSink

logger = logging.getLogger(__name__)


def audit_chain_seal(*, sink: CheckpointSink | None = None) -> SealResult:
    """Seal every pending event into the chain and write a signed checkpoint (one sealer at a time)."""
    result = seal(sink=sink)
    if result.sealed:
        logger.info("audit: sealed %d events, tree size %d", result.sealed, result.tree_size)
    return result


def verification_run_record(*, result: VerifyResult, started_at: datetime.datetime) -> VerificationRun:
    """Keep the outcome of one verify run for /audit/verify/."""
    with transaction.atomic():
        run = VerificationRun(
            started_at=started_at,
            ok=result.ok,
            events_checked=result.events,
            checkpoints_checked=result.checkpoints,
            first_bad_seq=result.first_bad_seq,
            bad_checkpoints=result.bad_checkpoints,
            summary="\n".join(result.reasons)[:10_000],
        )
        run.full_clean()
        run.save()
    return run
