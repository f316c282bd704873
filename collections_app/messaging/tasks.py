"""Celery tasks of the outbox relay, and the on-commit kick that queues one.

Every task is safe to run twice or concurrently: the relay claims rows with SKIP LOCKED and records each
hand-off before it is made, so a duplicate delivery (acks_late, a lost worker) sends nothing twice. The names
are those of the beat schedule (CELERY_BEAT_SCHEDULE); config/celery.py discovers this module.
"""

import logging

from celery import shared_task

from collections_app.messaging.relay import relay_run, relay_sweep

logger = logging.getLogger(__name__)

# Stop a relay task after this many batches and let the next kick or sweep continue: a task stays far shorter
# than the broker's visibility timeout.
RELAY_MAX_BATCHES = 50
# Messages claimed per transaction: larger batches spend fewer round trips per message; a crash leaves at most
# this many `sending` for the sweep to reconcile.
RELAY_BATCH_SIZE = 500


@shared_task(name="collections_app.relay_messages")
def relay_messages() -> dict[str, int]:
    """Send every message that is due (the on-commit kick)."""
    return vars(relay_run(batch_size=RELAY_BATCH_SIZE, max_batches=RELAY_MAX_BATCHES))


@shared_task(name="collections_app.sweep_outbox")
def sweep_outbox() -> dict[str, int]:
    """The periodic sweep: reconcile hand-offs whose worker died, then send what is due."""
    return vars(relay_sweep(batch_size=RELAY_BATCH_SIZE, max_batches=RELAY_MAX_BATCHES))


def kick_relay() -> None:
    """Ask a worker to run the relay now; if the broker is down the periodic sweep sends it later."""
    try:
        relay_messages.delay()
    except Exception:  # noqa: BLE001 - the outbox row is committed; the sweep is the guarantee
        logger.warning("could not kick the message relay; the sweep will send", exc_info=True)
