"""Message templates: every edit is a new version, checked on its text; a family version needs a risk approver.

The placeholders are those of messaging/render.py; the firewall runs on the text here and again on every
rendered message (enqueue and send).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext

from access.roles import RISK_APPROVER, user_has_role
from audit.record import audit_record
from collections_app.messaging.firewall.lint import lint_message
from collections_app.messaging.firewall.modes import firewall_profile_get
from collections_app.messaging.render import PLACEHOLDERS, fill_placeholders, template_placeholders_unknown
from collections_app.messaging.status import User
from collections_app.models import MessageTemplate, TemplateVersion


def template_body_problems(*, audience: str, firewall_profile: str, body: str) -> list[str]:
    """Why `body` cannot become a template version: unknown placeholders, or each firewall finding."""
    if unknown := template_placeholders_unknown(body):
        allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        return [
            gettext("Unknown placeholders: %(names)s. Use %(allowed)s.")
            % {"names": ", ".join(unknown), "allowed": allowed}
        ]
    # The placeholders are filled with masked or profile values at send time, and checked again then.
    text = fill_placeholders(body, borrower_name="", lender_name="", hotline="", opt_out="")
    findings = lint_message(text, audience=audience, profile=firewall_profile_get(firewall_profile))
    return [f"{f.category} [{f.start}:{f.end}] {f.text!r}" for f in findings]


def template_version_create(*, template: MessageTemplate, body: str, actor: User = None) -> TemplateVersion:
    """Add a version to `template` (any edit is a new version; a family one needs approval again).

    Raises ValidationError listing unknown placeholders or every firewall finding.
    """
    if problems := template_body_problems(
        audience=template.audience, firewall_profile=template.firewall_profile, body=body
    ):
        raise ValidationError(problems, code="firewall")
    with transaction.atomic():
        MessageTemplate.objects.select_for_update().get(pk=template.pk)
        latest = template.versions.aggregate(newest=Max("version"))["newest"] or 0
        version = TemplateVersion(
            template=template,
            version=latest + 1,
            body=body,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        version.full_clean()
        version.save()
        audit_record(
            action="template_changed",
            actor=actor,
            object_type="templateversion",
            object_id=version.pk,
            detail={"template": template.code, "version": version.version, "audience": template.audience},
        )
    return version


def template_version_approve(*, version: TemplateVersion, actor: AbstractBaseUser) -> TemplateVersion:
    """Approve a version: only a risk_approver who did not write it; raises PermissionDenied otherwise."""
    if not user_has_role(actor, RISK_APPROVER):
        raise PermissionDenied(gettext("Only a risk approver may approve a template."))
    if version.created_by_id is not None and version.created_by_id == actor.pk:
        raise PermissionDenied(gettext("The author of a template cannot approve it."))
    with transaction.atomic():
        locked = TemplateVersion.objects.select_for_update().get(pk=version.pk)
        if locked.is_approved:
            return locked
        locked.approved_by, locked.approved_at = actor, timezone.now()
        locked.full_clean()
        locked.save(update_fields=["approved_by", "approved_at"])
        audit_record(
            action="template_approved",
            actor=actor,
            role=RISK_APPROVER,
            object_type="templateversion",
            object_id=locked.pk,
            detail={"template": locked.template.code, "version": locked.version},
        )
    return locked
