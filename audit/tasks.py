"""Celery tasks of the audit log: thin wrappers over its services."""

import logging

from celery import shared_task

from audit.partitions import partitions_status
from audit.services import audit_chain_seal, audit_chain_verify

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def audit_seal() -> int:
    """Seal pending events and write a checkpoint (beat, every few seconds); the number sealed."""
    return audit_chain_seal().sealed


@shared_task(ignore_result=True)
def audit_verify(full: bool = False, incremental: bool = False, requested_by: str = "") -> bool:
    """Verify the chain and keep the result for /audit/verify/ (beat: nightly `incremental`, weekly `full`;
    an auditor from that page)."""
    return audit_chain_verify(incremental=incremental, full=full, requested_by=requested_by).ok


@shared_task(ignore_result=True)
def audit_partitions_check() -> str:
    """Check that this month's and the next two months' partitions exist (beat, daily): the app's role cannot
    make them; an error here asks the owner to run `audit_partitions --ahead N` before inserts fail."""
    status = partitions_status()
    if status != "ok":
        logger.error("audit partitions are short: run `manage.py audit_partitions --ahead 6` as the schema owner")
    return status
