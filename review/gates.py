"""The review app's send gate: a family message goes out only under an approved request that still holds.

Named in `settings.MESSAGE_SEND_GATES`, so the relay in collections_app runs it without importing review.
Its checks run in the relay's transaction; the request transitions they cause go through the services' one
choke point, `_transition`, like every other change of a request.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from collections_app.messaging.gates import SendGate, SendRefusal
from collections_app.models import ContactReason, Message
from review.models import FamilyContactRequest
from review.selectors import eligibility_evaluate
from review.services import _transition

Status = FamilyContactRequest.Status


class FamilyContactGate(SendGate):
    """Re-checks each family message before it is sent and closes its request when the message settles."""

    audience = Message.Audience.FAMILY

    def before_send(self, message: Message, now: datetime.datetime) -> SendRefusal | None:
        """Re-check a family message just before it goes out; return why it must not be sent, or None.

        A family message without an approved request never goes out; an approval past its send window
        expires (`expired`: the family message is stale); a request whose rules now fail is cancelled with
        the reason (`request_cancelled`).
        """
        request = (
            FamilyContactRequest.objects.select_for_update(of=("self",))
            .select_related("account", "contact", "template_version__template", "policy_version")
            .filter(message_id=message.pk)
            .first()
        )
        if request is None:
            return SendRefusal(
                ContactReason.REQUEST_CANCELLED, gettext("No approved family-contact request for this message.")
            )
        if request.status != Status.APPROVED:
            return SendRefusal(
                ContactReason.REQUEST_CANCELLED,
                gettext("The family-contact request is %(status)s.") % {"status": request.get_status_display()},
            )
        deadline = request.decided_at + datetime.timedelta(hours=request.policy_version.approval_send_hours)
        if now >= deadline:
            reason = gettext("Not sent within %(hours)d hours of approval.") % {
                "hours": request.policy_version.approval_send_hours
            }
            _transition(request, Status.EXPIRED, actor=None, now=now, status_reason=reason, detail={"stage": "send"})
            return SendRefusal(ContactReason.EXPIRED, reason)
        evaluation, _preview, _version = eligibility_evaluate(
            account=request.account,
            contact=request.contact,
            template_version=request.template_version,
            now=now,
            exclude_request_id=request.pk,
            exclude_message_id=message.pk,
        )
        if not evaluation.eligible:
            reason = evaluation.failure_summary()
            _transition(
                request,
                Status.CANCELLED,
                actor=None,
                now=now,
                status_reason=reason[:500],
                detail={"stage": "send", "failed_rules": [result.rule for result in evaluation.failed]},
            )
            return SendRefusal(ContactReason.REQUEST_CANCELLED, reason)
        return None

    def after_status_change(self, message: Message, old: str, new: str) -> None:
        """Follow the message: sent or delivered closes the request as `sent`; suppressed cancels it."""
        now = timezone.now()
        with transaction.atomic():
            request = (
                FamilyContactRequest.objects.select_for_update(of=("self",))
                .select_related("account")
                .filter(message_id=message.pk, status=Status.APPROVED)
                .first()
            )
            if request is None:
                return
            if new in (Message.Status.SENT, Message.Status.DELIVERED):
                _transition(request, Status.SENT, actor=None, now=now, detail={"message_id": message.pk})
            elif new == Message.Status.SUPPRESSED:
                reason = message.status_reason_label or gettext("The message was suppressed.")
                _transition(request, Status.CANCELLED, actor=None, now=now, status_reason=reason)
