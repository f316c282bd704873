"""Consent: phone opt-outs, stopped channels and cease-communication requests (inbound replies: `inbound`).

Each is recorded once (idempotent) with its audit event, and in the same transaction suppresses every message
it forbids that has not left yet; the relay checks them again just before each hand-off.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from audit.record import audit_record, person_key
from collections_app.messaging.status import User, suppress_pending
from collections_app.models import Borrower, ChannelStop, Contact, ContactReason, Message, PhoneOptOut
from collections_app.services.call_tasks import call_tasks_cancel_not_due


def phone_opt_out_record(
    *,
    phone: str,
    source: str = PhoneOptOut.Source.OFFICER,
    actor: User = None,
    received_at: datetime.datetime | None = None,
) -> PhoneOptOut:
    """Opt a phone number out of family contact for every borrower; suppress what is queued to it."""
    with transaction.atomic():
        opt_out, created = PhoneOptOut.objects.get_or_create(
            phone=phone,
            defaults={
                "source": source,
                "received_at": received_at or timezone.now(),
                "recorded_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if created:
            opt_out.full_clean()
            contacts = list(Contact.objects.filter(phone=phone).values_list("pk", "borrower_id"))
            audit_record(
                action="opt_out",
                actor=actor,
                object_type="phoneoptout",
                object_id=opt_out.pk,
                persons=[person_key("contact", pk) for pk, _ in contacts]
                + [person_key("borrower", b) for _, b in contacts],
                detail={"source": source},
            )
        suppress_pending(
            Message.objects.filter(recipient=phone, audience=Message.Audience.FAMILY),
            reason=ContactReason.OPTED_OUT,
            actor=actor,
        )
    return opt_out


def channel_stop_record(
    *,
    borrower: Borrower,
    channel: str,
    source: str = PhoneOptOut.Source.OFFICER,
    actor: User = None,
    received_at: datetime.datetime | None = None,
) -> ChannelStop:
    """Stop one channel for a borrower; suppress their messages queued on it."""
    with transaction.atomic():
        stop, created = ChannelStop.objects.get_or_create(
            borrower=borrower,
            channel=channel,
            defaults={
                "source": source,
                "received_at": received_at or timezone.now(),
                "recorded_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if created:
            stop.full_clean()
            audit_record(
                action="channel_stopped",
                actor=actor,
                object_type="channelstop",
                object_id=stop.pk,
                persons=[person_key("borrower", borrower.pk)],
                detail={"channel": channel, "source": source},
            )
        suppress_pending(
            Message.objects.filter(borrower=borrower, channel=channel, audience=Message.Audience.BORROWER),
            reason=ContactReason.CHANNEL_STOPPED,
            actor=actor,
        )
        if channel == Message.Channel.VOICE:
            call_tasks_cancel_not_due(
                reason="calls_stopped", account_ids=borrower.accounts.values_list("pk", flat=True), actor=actor
            )
    return stop


def cease_request_record(
    *, borrower: Borrower, actor: User = None, received_at: datetime.datetime | None = None
) -> Borrower:
    """Record a borrower's request that communication cease (Reg F 1006.6(c)); suppress everything queued."""
    with transaction.atomic():
        # Messages first, the borrower row last: the relay locks borrower rows while it holds message rows.
        suppress_pending(
            Message.objects.filter(borrower=borrower),
            reason=ContactReason.CEASED,
            actor=actor,
        )
        if borrower.cease_requested_at is None:
            moment = received_at or timezone.now()
            Borrower.objects.filter(pk=borrower.pk, cease_requested_at__isnull=True).update(cease_requested_at=moment)
            borrower.cease_requested_at = moment
            audit_record(
                action="cease_requested",
                actor=actor,
                object_type="borrower",
                object_id=borrower.pk,
                persons=[person_key("borrower", borrower.pk)],
                fields=["cease_requested_at"],
            )
        call_tasks_cancel_not_due(
            reason="cease", account_ids=borrower.accounts.values_list("pk", flat=True), actor=actor
        )
    return borrower
