"""The transactional outbox: a message is rendered, checked and written in the caller's transaction.

`message_enqueue` asks the contact gate (contact_gate.py) and writes a message `queued`, `waiting` (outside the
recipient's allowed hours) or `suppressed` with the gate's reason code, and on commit kicks the relay
(collections_app/messaging/relay.py), which claims due rows with `SELECT ... FOR UPDATE SKIP LOCKED`, asks the
gate again and hands them to the gateway exactly once. `message_suppress` stops a message before it leaves.
Every status move goes through messaging/status.py.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collections_app.messaging.checks import MessageRefused, findings_error, message_lint, template_usable_reason
from collections_app.messaging.contact_facts import contact_book_load, message_target
from collections_app.messaging.contact_gate import SEND, SUPPRESS, WAIT, ContactDecision, contact_gate, hand_off
from collections_app.messaging.render import message_render_preview
from collections_app.messaging.status import Status, User, audit_message, status_changed, suppress_pending
from collections_app.messaging.tasks import kick_relay
from collections_app.models import Borrower, Contact, LoanAccount, Message, PolicyVersion, TemplateVersion


def _recipient(*, borrower: Borrower, contact: Contact | None, channel: str) -> tuple[str, str]:
    if contact is not None:
        return contact.phone, contact.timezone
    if channel == Message.Channel.IN_APP:
        return f"app:{borrower.external_ref}", borrower.timezone
    return borrower.phone, borrower.timezone


def _checked_body(
    *,
    borrower: Borrower,
    contact: Contact | None,
    audience: str,
    channel: str,
    template_version: TemplateVersion,
    policy_version: PolicyVersion,
) -> str:
    """The rendered text, once the template, contact and firewall allow it; raises MessageRefused otherwise."""
    template = template_version.template
    if template.audience != audience or template.channel != channel:
        raise MessageRefused(_("The template is for another audience or channel."), code="template")
    if (audience == Message.Audience.FAMILY) != (contact is not None):
        raise MessageRefused(_("A family message needs a contact, a borrower message none."), code="contact")
    if contact is not None and contact.borrower_id != borrower.pk:
        raise MessageRefused(_("The contact is not one of this borrower's contacts."), code="contact")
    if unusable := template_usable_reason(template_version):
        raise MessageRefused(unusable, code="template")
    body = message_render_preview(template_version=template_version, borrower=borrower, policy_version=policy_version)
    if findings := message_lint(body=body, audience=audience, policy_version=policy_version):
        raise findings_error(findings)
    return body


def _first_status(message: Message, now: datetime.datetime) -> tuple[str, str, str, ContactDecision]:
    """The status a new message starts in, its reason code and words, and the contact gate's answer now."""
    target = message_target(message)
    decision = contact_gate(contact_book_load([target], now=now).facts(target), policy=target.policy, now=now)
    verdict, code = hand_off(decision)
    why = "; ".join(reason.text for reason in decision.reasons) if verdict != SEND else ""
    return _STATUS_OF[verdict], code, why, decision


_STATUS_OF = {SEND: Status.QUEUED, WAIT: Status.WAITING, SUPPRESS: Status.SUPPRESSED}


def message_enqueue(
    *,
    borrower: Borrower,
    account: LoanAccount | None,
    contact: Contact | None = None,
    audience: str,
    channel: str,
    template_version: TemplateVersion,
    policy_version: PolicyVersion,
    idempotency_key: str,
    actor: User = None,
) -> Message:
    """Render, check and write one message in the caller's transaction; the relay sends it after commit.

    The message is `queued`, `waiting` (outside the recipient's allowed hours) or `suppressed` with its reason;
    re-enqueueing an existing idempotency key returns that message unchanged. Raises MessageRefused when the
    template is not usable or the text fails the firewall.
    """
    body = _checked_body(
        borrower=borrower,
        contact=contact,
        audience=audience,
        channel=channel,
        template_version=template_version,
        policy_version=policy_version,
    )
    with transaction.atomic():
        existing = Message.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        recipient, zone = _recipient(borrower=borrower, contact=contact, channel=channel)
        now = timezone.now()
        message = Message(
            borrower=borrower,
            account=account,
            contact=contact,
            audience=audience,
            channel=channel,
            recipient=recipient,
            recipient_timezone=zone,
            body=body,
            template_version=template_version,
            policy_version=policy_version,
            idempotency_key=idempotency_key,
        )
        status, reason, why, decision = _first_status(message, now)
        message.status, message.status_reason = status, reason
        message.not_before = decision.next_open or now
        # The recipient's day it is to go out on: a ladder reminder is stale once that day is over.
        message.send_date = (decision.next_open or decision.local_time).date()
        stored = _insert_once(message)
        if stored is not message:
            return stored
        audit_message(
            message,
            status,
            actor=actor,
            reason=reason,
            policy_version=policy_version.pk,
            template_version=template_version.pk,
            **({"why": why[:500]} if why else {}),
        )
        status_changed(message, "", status)
        if status == Status.QUEUED:
            transaction.on_commit(kick_relay)
    return message


def _insert_once(message: Message) -> Message:
    """Insert the message, or return the one another transaction wrote first under the same key."""
    # Field checks only: the related rows are the objects given, and the database holds every constraint
    # and the unique key (validating those here would cost a query each).
    message.full_clean(
        exclude=["borrower", "account", "contact", "template_version", "policy_version", "not_before"],
        validate_unique=False,
        validate_constraints=False,
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        return Message.objects.get(idempotency_key=message.idempotency_key)
    return message


def message_suppress(*, message: Message, reason: str, why: str = "", actor: User = None) -> bool:
    """Suppress a message that has not been handed over yet; False when it already left (or was stopped).

    `reason` is a `ContactReason` code, `why` the words the audit event keeps.
    """
    detail = {"why": why[:500]} if why else {}
    with transaction.atomic():
        return bool(suppress_pending(Message.objects.filter(pk=message.pk), reason=reason, actor=actor, **detail))
