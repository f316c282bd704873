"""Celery tasks of the audit log: thin wrappers over its services."""

from celery import shared_task
from django.utils import timezone

from audit.chain.verify import verify
from audit.services import audit_chain_seal, verification_run_record


@shared_task(ignore_result=True)
def audit_seal() -> int:
    """Seal pending events and write a checkpoint (beat, every few seconds); the number sealed."""
    return audit_chain_seal().sealed


@shared_task(ignore_result=True)
def audit_verify(full: bool = False) -> bool:
    """Verify the whole chain and keep the result for /audit/verify/ (beat: nightly, and `full` weekly)."""
    started_at = timezone.now()
    result = verify(full=full)
    verification_run_record(result=result, started_at=started_at)
    return result.ok
