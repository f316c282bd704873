"""What keeps a message's text from being written or sent: checked when it is enqueued and again by the relay.

Each check is written once here and run at both moments, since template versions and the firewall may change
between the two. Whether the recipient may be contacted at all is the contact gate's (contact_gate.py).
"""

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collections_app.messaging.firewall.lint import Finding, lint_message
from collections_app.messaging.firewall.modes import firewall_profile_for
from collections_app.models import Message, PolicyVersion, TemplateVersion


class MessageRefused(ValidationError):
    """The message cannot be written: it fails the firewall or its template is not usable."""


def findings_error(findings: Sequence[Finding]) -> MessageRefused:
    """The refusal listing each firewall finding."""
    listed = "; ".join(f"{f.category} [{f.start}:{f.end}] {f.text!r}" for f in findings)
    return MessageRefused(
        _("The message fails the content firewall: %(findings)s"), code="firewall", params={"findings": listed}
    )


def message_lint(*, body: str, audience: str, policy_version: PolicyVersion) -> list[Finding]:
    """The firewall's findings on `body` for `audience` under the policy version's profile."""
    return lint_message(body, audience=audience, profile=firewall_profile_for(policy_version))


def template_usable_reason(template_version: TemplateVersion) -> str:
    """Why a version may not be used for new messages, or "" when it may."""
    template = template_version.template
    current = template.versions.aggregate(newest=Max("version"))["newest"]
    if template_version.version != current:
        return gettext("the template has changed since this version")
    if template.audience == Message.Audience.FAMILY and not template_version.is_approved:
        return gettext("the family template version is not approved")
    return ""
