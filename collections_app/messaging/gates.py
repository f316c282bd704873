"""Send gates: checks another app runs on the messages of one audience, named in `settings.MESSAGE_SEND_GATES`.

As Django names its authentication backends, the setting lists dotted paths of `SendGate` classes; the outbox
never imports the app behind them (review guards family messages this way, and collections_app imports nothing
from review). The relay asks each gate of a message's audience just before the hand-off, in the send
transaction; every status change of such a message is reported to it in the transaction that makes it.
"""

import datetime
import functools
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from collections_app.models import ContactReason, Message


@dataclass(frozen=True)
class SendRefusal:
    """A gate's refusal: the `ContactReason` code the suppressed message records, and why in words."""

    code: str
    text: str


class SendGate:
    """The interface of a send gate; subclass it and name the subclass in `MESSAGE_SEND_GATES`."""

    #: The `Message.audience` whose messages this gate checks and follows.
    audience: str = ""

    def before_send(self, message: Message, now: datetime.datetime) -> SendRefusal | str | None:
        """Why `message` must not be sent now (it is then suppressed), or None; plain text means the request
        behind the message was cancelled (`request_cancelled`)."""
        return None

    def after_status_change(self, message: Message, old: str, new: str) -> None:
        """Follow a status change of `message` (`old` is "" when it is created)."""
        return None


@functools.cache
def _load(paths: tuple[str, ...]) -> tuple[SendGate, ...]:
    # Keyed by the setting's value, so a changed setting (tests) loads its own gates.
    return tuple(import_string(path)() for path in paths)


def send_gates(audience: str) -> tuple[SendGate, ...]:
    """The gates the setting declares for `audience`, in the setting's order."""
    gates = _load(tuple(getattr(settings, "MESSAGE_SEND_GATES", ())))
    return tuple(gate for gate in gates if gate.audience == audience)


def gates_before_send(message: Message, now: datetime.datetime) -> SendRefusal | None:
    """The first refusal of the message's gates, or None when every gate lets it go."""
    for gate in send_gates(message.audience):
        if refusal := gate.before_send(message, now):
            if isinstance(refusal, SendRefusal):
                return refusal
            return SendRefusal(ContactReason.REQUEST_CANCELLED, str(refusal))
    return None


def gates_after_status_change(message: Message, old: str, new: str) -> None:
    """Tell each gate of the message's audience that its status moved from `old` to `new`."""
    for gate in send_gates(message.audience):
        gate.after_status_change(message, old, new)
