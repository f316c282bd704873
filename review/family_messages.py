"""The review app's one seam to collections_app's messages: rendering, the firewall, the outbox.

Review's selectors and services reach messaging only through these functions, so a change of layout on the
messaging side (as when the outbox was split by concern) changes this file alone. The send gate runs the
other way and is named in settings.MESSAGE_SEND_GATES (review/gates.py).
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser

from collections_app.messaging import outbox
from collections_app.messaging.checks import message_lint
from collections_app.messaging.firewall.lint import Finding
from collections_app.messaging.render import message_render_preview
from collections_app.models import Contact, LoanAccount, Message, PolicyVersion, TemplateVersion
from collections_app.selectors.profiles import current_policy_versions
from collections_app.selectors.profiles import policy_version_for_account as _policy_version_for_account


def policy_version_for_account(account: LoanAccount, *, at: datetime.datetime | None = None) -> PolicyVersion:
    """The policy version in force at `at` (default: now) for the account's portfolio."""
    return _policy_version_for_account(account, at=at)


def queue_overdue_hours(*, at: datetime.datetime) -> int:
    """Hours after which a waiting request is overdue: the strictest threshold of the versions in force at `at`."""
    return min((version.queue_overdue_hours for version in current_policy_versions(at=at).values()), default=24)


def render_family_message(
    *, template_version: TemplateVersion, account: LoanAccount, policy_version: PolicyVersion
) -> str:
    """The exact text the family contact would receive (the outbox's own renderer)."""
    return message_render_preview(
        template_version=template_version, borrower=account.borrower, policy_version=policy_version
    )


def family_message_lint(*, body: str, policy_version: PolicyVersion) -> list[Finding]:
    """The content firewall on a family message under the policy version's profile."""
    return message_lint(body=body, audience=Message.Audience.FAMILY, policy_version=policy_version)


def family_message_enqueue(
    *,
    account: LoanAccount,
    contact: Contact,
    template_version: TemplateVersion,
    policy_version: PolicyVersion,
    idempotency_key: str,
    actor: AbstractBaseUser | None,
) -> Message:
    """Queue the approved family message (one contact, one channel) in the caller's transaction."""
    return outbox.message_enqueue(
        borrower=account.borrower,
        account=account,
        contact=contact,
        audience=Message.Audience.FAMILY,
        channel=template_version.template.channel,
        template_version=template_version,
        policy_version=policy_version,
        idempotency_key=idempotency_key,
        actor=actor,
    )


def message_suppress(*, message: Message, reason: str, why: str = "", actor: AbstractBaseUser | None = None) -> None:
    """Suppress a message not yet handed to the gateway so that it is never sent (`reason`: a ContactReason code)."""
    outbox.message_suppress(message=message, reason=reason, why=why, actor=actor)
