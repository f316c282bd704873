"""Message templates: every edit is a new version, checked on its text; a family version needs a risk approver.

The placeholders are those of messaging/render.py; the firewall runs on the text here and again on every
rendered message (enqueue and send). A risk approver decides each family version at /review/templates/
(review's pages) through `template_version_decide`, the one place a version is approved or rejected.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from access.roles import RISK_APPROVER, user_has_role
from audit.record import audit_record
from collections_app.messaging.firewall.lint import lint_message
from collections_app.messaging.firewall.modes import firewall_profile_get
from collections_app.messaging.render import PLACEHOLDERS, fill_placeholders, template_placeholders_unknown
from collections_app.messaging.status import User
from collections_app.models import Message, MessageTemplate, TemplateVersion


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


class TemplateDecisionConflict(Exception):
    """The version no longer awaits a decision (decided, or superseded by a newer version); nothing was written."""

    def __init__(self, version: TemplateVersion) -> None:
        super().__init__(f"template version {version.pk} does not await approval")
        self.version = version


def template_versions_awaiting_approval() -> QuerySet[TemplateVersion]:
    """Family versions nobody has decided that are still their template's newest: the ones a decision can take."""
    newer = TemplateVersion.objects.filter(template=OuterRef("template_id"), version__gt=OuterRef("version"))
    return TemplateVersion.objects.filter(
        template__audience=Message.Audience.FAMILY, approved_at__isnull=True, rejected_at__isnull=True
    ).exclude(Exists(newer))


def _deny(actor: AbstractBaseUser, version_id: int, why: str) -> None:
    # Its own transaction: the refusal stays on record although nothing else is written.
    with transaction.atomic():
        audit_record(
            action="permission_denied",
            actor=actor,
            role=RISK_APPROVER,
            object_type="templateversion",
            object_id=version_id,
            outcome="denied",
            detail={"why": why},
        )


def template_version_decide(*, version_id: int, decision: str, reason: str, actor: AbstractBaseUser) -> TemplateVersion:
    """Approve or reject a family version awaiting approval: the one place a template version is decided.

    Only a risk approver who did not write the version decides it (PermissionDenied, audited, otherwise; the
    database refuses the author too). A rejection needs a reason (ValidationError). TemplateDecisionConflict
    when the version no longer awaits a decision. Audited as `template_approved` or `template_rejected`.
    """
    reason = reason.strip()
    if decision not in ("approve", "reject"):
        raise ValidationError({"decision": gettext("Choose approve or reject.")})
    if decision == "reject" and not reason:
        raise ValidationError({"reason": gettext("A rejection needs a reason.")})
    if not user_has_role(actor, RISK_APPROVER):
        _deny(actor, version_id, "role")
        raise PermissionDenied(gettext("Only a risk approver may approve a template."))
    author_id = TemplateVersion.objects.filter(pk=version_id).values_list("created_by_id", flat=True).first()
    if author_id is not None and author_id == actor.pk:
        _deny(actor, version_id, "separation_of_duties")
        raise PermissionDenied(gettext("The author of a template cannot approve it."))
    with transaction.atomic():
        template_id = TemplateVersion.objects.values_list("template_id", flat=True).get(pk=version_id)
        # The template's row lock (also taken by template_version_create) puts every decision on its versions and
        # every new version in one order: exactly one of two concurrent decisions stands.
        MessageTemplate.objects.select_for_update().get(pk=template_id)
        locked = TemplateVersion.objects.select_related("template").get(pk=version_id)
        if not template_versions_awaiting_approval().filter(pk=locked.pk).exists():
            raise TemplateDecisionConflict(locked)
        now = timezone.now()
        if decision == "approve":
            locked.approved_by, locked.approved_at = actor, now
        else:
            locked.rejected_by, locked.rejected_at = actor, now
        locked.decision_reason = reason
        locked.full_clean()
        locked.save(update_fields=["approved_by", "approved_at", "rejected_by", "rejected_at", "decision_reason"])
        audit_record(
            action="template_approved" if decision == "approve" else "template_rejected",
            actor=actor,
            role=RISK_APPROVER,
            object_type="templateversion",
            object_id=locked.pk,
            # The reason's text stays on the version, out of the audit log (as for family-contact decisions).
            detail={"template": locked.template.code, "version": locked.version, "reason": bool(reason)},
        )
    return locked
