"""Delivery receipts from the gateway: a message moves forward (sent, delivered) or to failed, never back."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from collections_app.messaging.status import Status, audit_message, status_changed
from collections_app.models import Message

# Forward order of statuses a delivery receipt may move along; failed and suppressed are terminal.
RECEIPT_RANK = {Status.SENDING: 1, Status.SENT: 2, Status.DELIVERED: 3}


def message_receipt_take(*, idempotency_key: str, status: str, at: datetime.datetime) -> bool:
    """Move a message forward on a gateway receipt; never backwards, never out of a final status."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(idempotency_key=idempotency_key).first()
        if message is None or message.status not in RECEIPT_RANK:
            return False
        old = message.status
        if status == Status.FAILED:
            if old == Status.DELIVERED:
                return False
            fields: dict[str, object] = {"last_error": gettext("the gateway reported a failure")}
        else:
            if RECEIPT_RANK[Status(status)] <= RECEIPT_RANK[Status(old)]:
                return False
            fields = {"sent_at": message.sent_at or at}
            if status == Status.DELIVERED:
                fields["delivered_at"] = at
        Message.objects.filter(pk=message.pk).update(status=status, updated_at=timezone.now(), **fields)
        for name, value in fields.items():
            setattr(message, name, value)
        message.status = status
        audit_message(message, status, reason=gettext("delivery receipt"), at=at.isoformat())
        status_changed(message, old, status)
    return True
