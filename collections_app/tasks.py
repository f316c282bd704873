"""Celery tasks of the collections domain: thin wrappers over services.

Every task is safe to run twice or concurrently: the relay claims rows with SKIP LOCKED and the ladder's
rows carry unique keys, so a duplicate delivery (acks_late, a lost worker) sends and queues nothing twice.
"""

from celery import shared_task

# Stop a relay task after this many batches and let the next kick or sweep continue: a task stays far shorter
# than the broker's visibility timeout.
RELAY_MAX_BATCHES = 50
# Messages claimed per transaction: larger batches spend fewer round trips per message; a crash leaves at most
# this many `sending` for the sweep to reconcile.
RELAY_BATCH_SIZE = 500


@shared_task(name="collections_app.relay_messages")
def relay_messages() -> dict[str, int]:
    """Send every message that is due (the on-commit kick)."""
    from collections_app.messaging.outbox import relay_run

    return vars(relay_run(batch_size=RELAY_BATCH_SIZE, max_batches=RELAY_MAX_BATCHES))


@shared_task(name="collections_app.sweep_outbox")
def sweep_outbox() -> dict[str, int]:
    """The periodic sweep: reconcile hand-offs whose worker died, then send what is due."""
    from collections_app.messaging.outbox import relay_sweep

    return vars(relay_sweep(batch_size=RELAY_BATCH_SIZE, max_batches=RELAY_MAX_BATCHES))


@shared_task(name="collections_app.run_escalation")
def run_escalation() -> dict[str, int]:
    """The day's reminder ladder (daily beat entry)."""
    from collections_app.messaging.ladder import escalation_run

    return vars(escalation_run())
