"""Celery tasks of the collections domain: thin wrappers over services.

Every task is safe to run twice or concurrently: the ladder's rows carry unique keys, so a duplicate delivery
(acks_late, a lost worker) queues nothing twice. The relay's tasks live beside the relay, in
collections_app/messaging/tasks.py.
"""

from celery import shared_task

from collections_app.messaging.ladder import escalation_run
from collections_app.privacy.core_lending import core_corrections_forward
from collections_app.services.plans import repayment_plans_settle
from collections_app.services.retention import retention_run as retention_run_service
from collections_app.team.snapshots import team_snapshot_take


@shared_task(name="collections_app.run_escalation")
def run_escalation() -> dict[str, int]:
    """The day's reminder ladder (daily beat entry)."""
    return vars(escalation_run())


@shared_task(name="collections_app.settle_repayment_plans")
def settle_repayment_plans() -> dict[str, int]:
    """Mark instalments paid and plans kept or broken (daily beat entry, before escalation)."""
    return repayment_plans_settle()


@shared_task(name="collections_app.take_team_snapshot")
def take_team_snapshot() -> dict[str, object]:
    """Yesterday's account snapshots, activity and month figures for the team lead's dashboard (daily beat entry)."""
    run = team_snapshot_take()
    return {**vars(run), "day": run.day.isoformat(), "month": run.month.isoformat()}


@shared_task(name="collections_app.retention_run")
def retention_run() -> dict[str, object]:
    """Erase the personal data of accounts closed longer than their profile's retention period (daily beat entry)."""
    run = retention_run_service()
    return {"dry_run": run.dry_run, **run.counts}


@shared_task(name="collections_app.forward_core_corrections")
def forward_core_corrections() -> int:
    """Hand over the corrections whose hand-over after commit failed (beat entry); how many went."""
    return core_corrections_forward()
