"""Templates: saving runs the firewall, an edit is a new version, a family version needs another person's approval.

Approval is taken in the app (/review/templates/, issue 17) by a risk approver without staff status; the admin
only writes versions. Deciding is `template_version_decide`, the one service, which the page calls.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from collections_app.messaging.message_templates import template_version_create, template_version_decide
from collections_app.models import MessageTemplate, TemplateVersion
from tests.conftest import signed_in as signed_in_plain
from tests.factories import make_user
from tests.security.fixtures import otp_verify_session

pytestmark = pytest.mark.django_db


def signed_in(user):
    """A client signed in as `user`, past the second factor where the user needs one."""
    client = signed_in_plain(user)
    otp_verify_session(client, user)
    return client


CLEAN = "您好，请{borrower_name}方便时致电{hotline}与我们联系。"


def family_template() -> MessageTemplate:
    return MessageTemplate.objects.create(code="fam", audience="family", channel="sms", name="Family callback")


def risk_approver(username: str):
    """A risk approver as the app knows one: no staff status, no admin permission."""
    return make_user(username, RISK_APPROVER)


def decide_in_the_app(user, version: TemplateVersion, decision: str = "approve", reason: str = ""):
    return signed_in(user).post(f"/review/templates/{version.pk}/decide/", {"decision": decision, "reason": reason})


def test_version_by_one_approver_is_approved_by_another_and_audited():
    author, checker = risk_approver("erin"), risk_approver("frank")
    version = template_version_create(template=family_template(), body=CLEAN, actor=author)
    assert decide_in_the_app(checker, version).status_code == 302
    approved = TemplateVersion.objects.get(pk=version.pk)
    assert approved.is_approved and approved.approved_by == checker
    assert AuditEvent.objects.filter(action="template_changed", object_id=str(version.pk)).count() == 1
    assert AuditEvent.objects.filter(
        action="template_approved", object_id=str(version.pk), actor_id=checker.pk
    ).exists()


def test_author_cannot_approve_their_own_version():
    author = risk_approver("erin")
    version = template_version_create(template=family_template(), body=CLEAN, actor=author)
    assert decide_in_the_app(author, version).status_code == 403
    with pytest.raises(PermissionDenied):
        template_version_decide(version_id=version.pk, decision="approve", reason="", actor=author)
    version.refresh_from_db()
    assert not version.is_approved
    assert not AuditEvent.objects.filter(action="template_approved").exists()
    assert AuditEvent.objects.filter(action="permission_denied", object_id=str(version.pk)).exists()


def test_only_a_risk_approver_approves(officer):
    version = template_version_create(template=family_template(), body=CLEAN, actor=risk_approver("erin"))
    assert decide_in_the_app(officer, version).status_code == 403
    with pytest.raises(PermissionDenied):
        template_version_decide(version_id=version.pk, decision="approve", reason="", actor=officer)
    version.refresh_from_db()
    assert not version.is_approved


def test_database_refuses_an_approval_by_the_author():
    from django.db import IntegrityError
    from django.utils import timezone

    author = risk_approver("erin")
    version = template_version_create(template=family_template(), body=CLEAN, actor=author)
    with pytest.raises(IntegrityError):
        TemplateVersion.objects.filter(pk=version.pk).update(approved_by=author, approved_at=timezone.now())


def test_body_failing_the_firewall_is_refused_with_each_finding():
    with pytest.raises(ValidationError) as refused:
        template_version_create(template=family_template(), body="{borrower_name}欠款5000元，逾期45天")
    text = " ".join(refused.value.messages)
    assert "amount" in text and "overdue_detail" in text and "debt_disclosure" in text
    assert not TemplateVersion.objects.filter(template__code="fam").exists()


def test_unknown_placeholder_is_refused():
    with pytest.raises(ValidationError):
        template_version_create(template=family_template(), body="您好{amount_due}")


def test_admin_add_then_edit_needs_approval_again(admin_user):
    client = signed_in(admin_user)
    response = client.post(
        "/admin/collections_app/messagetemplate/add/",
        {
            "code": "fam-admin",
            "name": "Family",
            "audience": "family",
            "channel": "sms",
            "language": "zh-hans",
            "firewall_profile": "cn-default",
            "body": CLEAN,
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    template = MessageTemplate.objects.get(code="fam-admin")
    first = template.current_version
    assert first.version == 1 and first.created_by == admin_user and not first.is_approved
    assert decide_in_the_app(risk_approver("frank"), first).status_code == 302

    response = client.post(
        f"/admin/collections_app/messagetemplate/{template.pk}/change/",
        {
            "name": "Family",
            "language": "zh-hans",
            "firewall_profile": "cn-default",
            "body": "请{borrower_name}尽快回电{hotline}。",
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-0-id": str(first.pk),
            "versions-0-template": str(template.pk),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    second = template.current_version
    assert second.version == 2 and not second.is_approved
    assert AuditEvent.objects.filter(action="template_changed").count() == 2


def test_admin_refuses_a_leaking_body_showing_the_findings(admin_user):
    response = signed_in(admin_user).post(
        "/admin/collections_app/messagetemplate/add/",
        {
            "code": "leak",
            "name": "Leak",
            "audience": "family",
            "channel": "sms",
            "language": "zh-hans",
            "firewall_profile": "cn-default",
            "body": "{borrower_name}欠款5000元",
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "amount" in response.content.decode()
    assert not MessageTemplate.objects.filter(code="leak").exists()


def test_the_admin_has_no_approve_action_a_second_person_approves_in_the_app():
    author, checker = risk_approver("erin"), risk_approver("frank")
    version = template_version_create(template=family_template(), body=CLEAN, actor=author)
    # Even with staff status and the admin's permission on versions, the admin list offers no approval.
    checker.is_staff = True
    checker.save(update_fields=["is_staff"])
    checker.user_permissions.add(Permission.objects.get(codename="view_templateversion"))
    url = "/admin/collections_app/templateversion/"
    assert signed_in(checker).get(url).status_code == 200
    signed_in(checker).post(url, {"action": "approve", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert not version.is_approved
    assert decide_in_the_app(author, version).status_code == 403
    version.refresh_from_db()
    assert not version.is_approved
    assert decide_in_the_app(checker, version).status_code == 302
    version.refresh_from_db()
    assert version.approved_by == checker
