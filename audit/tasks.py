"""Celery tasks of the audit log: thin wrappers over its services."""

from celery import shared_task

from audit.services import audit_chain_seal, audit_chain_verify


@shared_task(ignore_result=True)
def audit_seal() -> int:
    """Seal pending events and write a checkpoint (beat, every few seconds); the number sealed."""
    return audit_chain_seal().sealed


@shared_task(ignore_result=True)
def audit_verify(full: bool = False, incremental: bool = False, requested_by: str = "") -> bool:
    """Verify the chain and keep the result for /audit/verify/ (beat: nightly `incremental`, weekly `full`;
    an auditor from that page)."""
    return audit_chain_verify(incremental=incremental, full=full, requested_by=requested_by).ok
