"""Celery tasks of the collections domain: thin wrappers over services.

Every task is safe to run twice or concurrently: the ladder's rows carry unique keys, so a duplicate delivery
(acks_late, a lost worker) queues nothing twice. The relay's tasks live beside the relay, in
collections_app/messaging/tasks.py.
"""

from celery import shared_task

from collections_app.messaging.ladder import escalation_run


@shared_task(name="collections_app.run_escalation")
def run_escalation() -> dict[str, int]:
    """The day's reminder ladder (daily beat entry)."""
    return vars(escalation_run())
