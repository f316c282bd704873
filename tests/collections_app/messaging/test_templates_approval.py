"""Templates: saving runs the firewall, an edit is a new version, a family version needs another person's approval."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from collections_app.messaging.message_templates import template_version_approve, template_version_create
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


def staff_approver(username: str):
    user = make_user(username, RISK_APPROVER, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_templateversion"))
    return user


def test_version_by_one_approver_is_approved_by_another_and_audited():
    author, checker = staff_approver("erin"), staff_approver("frank")
    version = template_version_create(template=family_template(), body=CLEAN, actor=author)
    approved = template_version_approve(version=version, actor=checker)
    assert approved.is_approved and approved.approved_by == checker
    assert AuditEvent.objects.filter(action="template_changed", object_id=str(version.pk)).count() == 1
    assert AuditEvent.objects.filter(
        action="template_approved", object_id=str(version.pk), actor_id=checker.pk
    ).exists()


def test_author_cannot_approve_their_own_version():
    author = staff_approver("erin")
    version = template_version_create(template=family_template(), body=CLEAN, actor=author)
    with pytest.raises(PermissionDenied):
        template_version_approve(version=version, actor=author)
    version.refresh_from_db()
    assert not version.is_approved
    assert not AuditEvent.objects.filter(action="template_approved").exists()


def test_only_a_risk_approver_approves(officer):
    version = template_version_create(template=family_template(), body=CLEAN, actor=staff_approver("erin"))
    with pytest.raises(PermissionDenied):
        template_version_approve(version=version, actor=officer)


def test_database_refuses_an_approval_by_the_author():
    from django.db import IntegrityError
    from django.utils import timezone

    author = staff_approver("erin")
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
    template_version_approve(version=first, actor=staff_approver("frank"))

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


def test_admin_approve_action_refuses_the_author_and_accepts_another_approver():
    author, checker = staff_approver("erin"), staff_approver("frank")
    version = template_version_create(template=family_template(), body=CLEAN, actor=author)
    url = "/admin/collections_app/templateversion/"
    signed_in(author).post(url, {"action": "approve", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert not version.is_approved
    signed_in(checker).post(url, {"action": "approve", "_selected_action": [version.pk]})
    version.refresh_from_db()
    assert version.approved_by == checker
