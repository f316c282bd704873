"""Shared set-up for the messaging tests: templates, policy versions, and a clock inside allowed hours."""

import datetime
import zoneinfo

from django.contrib.auth.models import User

from collections_app.messaging.outbox import message_enqueue
from collections_app.models import LoanAccount, Message, MessageTemplate, PolicyVersion, TemplateVersion

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# 10:00 in Shanghai: inside allowed hours.
DAYTIME = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
NIGHT = datetime.datetime(2026, 3, 10, 23, 30, tzinfo=SHANGHAI)

FAMILY_BODY = "您好，我们是{lender_name}，有事想请{borrower_name}尽快与我们联系，客服电话{hotline}。"


def policy(code: str = "cn-default") -> PolicyVersion:
    """The version in force of a built-in profile."""
    return PolicyVersion.objects.filter(profile__code=code).order_by("-version").first()


def ladder_version(stage: str = "overdue", channel: str = "sms") -> TemplateVersion:
    """The newest version of a ladder template."""
    return TemplateVersion.objects.filter(template__code=f"ladder-{stage}-{channel}").order_by("-version").first()


def family_version(
    author: User | None, approver: User | None, body: str = FAMILY_BODY, code: str = "family-callback"
) -> TemplateVersion:
    """A family SMS template version written by `author`, approved by `approver` (None: unapproved)."""
    template, _ = MessageTemplate.objects.get_or_create(
        code=code, defaults={"audience": Message.Audience.FAMILY, "channel": Message.Channel.SMS, "name": code}
    )
    number = (template.versions.count() or 0) + 1
    version = TemplateVersion.objects.create(template=template, version=number, body=body, created_by=author)
    if approver is not None:
        version.approved_by = approver
        version.approved_at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        version.save()
    return version


def enqueue_borrower_sms(account: LoanAccount, key: str = "k1") -> Message:
    """A borrower SMS from the overdue ladder template, under the default policy."""
    return message_enqueue(
        borrower=account.borrower,
        account=account,
        audience="borrower",
        channel="sms",
        template_version=ladder_version(),
        policy_version=policy(),
        idempotency_key=key,
    )
