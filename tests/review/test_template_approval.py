"""Template approval in the app (/review/templates/): rendered, diffed and linted; decided once, by a second person."""

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import DatabaseError
from django.utils.translation import gettext, override

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from collections_app.messaging.message_templates import template_version_create, template_version_decide
from collections_app.models import Message, MessageTemplate, TemplateVersion
from review.selectors import family_templates
from review.template_review import text_diff_html
from tests.conftest import signed_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db

FIRST = "您好，这里是客服中心。烦请转告您的亲友尽快致电{hotline}与我们联系，谢谢。"
SECOND = "您好，这里是客服中心。您的一位亲友请我们转告：请其方便时致电{hotline}，谢谢。"
# Clean under cn-default (the profile it is saved under), but it names repayment: us-regf and uk-conc flag it.
REPAYMENT = "您好，您的家人委托我们转告，请其尽快处理还款事宜，致电{hotline}。"
URL = "/review/templates/"


@pytest.fixture
def author():
    return make_user("erin", RISK_APPROVER)


def family_template(code: str = "fam") -> MessageTemplate:
    return MessageTemplate.objects.create(
        code=code, audience=Message.Audience.FAMILY, channel=Message.Channel.SMS, name="Family call-back"
    )


def decide(user, version: TemplateVersion, decision: str = "approve", reason: str = ""):
    return signed_in(user).post(f"{URL}{version.pk}/decide/", {"decision": decision, "reason": reason})


def test_a_template_is_approved_in_the_app_by_a_second_person(author, approver) -> None:
    template = family_template()
    version = template_version_create(template=template, body=FIRST, actor=author)
    assert template not in family_templates()  # not usable while it waits
    page = signed_in(approver).get(URL)
    assert page.status_code == 200
    assert f'data-version="{version.pk}"' in page.content.decode()

    response = decide(approver, version, reason="Checked the wording")
    assert response.status_code == 302 and response["Location"] == URL
    version.refresh_from_db()
    assert version.approved_by == approver and version.decision_reason == "Checked the wording"
    assert template in family_templates()
    event = AuditEvent.objects.get(action="template_approved", object_id=str(version.pk))
    assert event.actor_id == approver.pk and event.role == RISK_APPROVER
    assert "Checked the wording" not in str(event.detail)  # the reason stays on the version
    assert f'data-version="{version.pk}"' not in signed_in(approver).get(URL).content.decode()


def test_the_author_cannot_approve_and_is_shown_no_form(author) -> None:
    version = template_version_create(template=family_template(), body=FIRST, actor=author)
    page = signed_in(author).get(URL).content.decode()
    assert f'data-version="{version.pk}"' in page
    assert f"{URL}{version.pk}/decide/" not in page
    assert decide(author, version).status_code == 403
    assert decide(author, version, "reject", "I changed my mind").status_code == 403
    version.refresh_from_db()
    assert not version.is_approved and not version.is_rejected
    assert AuditEvent.objects.filter(action="permission_denied", object_id=str(version.pk)).count() == 2


def test_the_database_refuses_a_rejection_by_the_author(author) -> None:
    from django.utils import timezone

    version = template_version_create(template=family_template(), body=FIRST, actor=author)
    with pytest.raises(IntegrityError), transaction.atomic():
        TemplateVersion.objects.filter(pk=version.pk).update(
            rejected_by=author, rejected_at=timezone.now(), decision_reason="mine"
        )


def test_the_page_shows_the_rendered_text_the_diff_and_each_profiles_findings(author, approver) -> None:
    template = family_template()
    first = template_version_create(template=template, body=FIRST, actor=author)
    template_version_decide(version_id=first.pk, decision="approve", reason="", actor=approver)
    second = template_version_create(template=template, body=REPAYMENT, actor=author)
    response = signed_in(approver).get(URL)
    reviews = [row[0] for row in response.context["rows"]]
    assert [review.version for review in reviews] == [second]
    review = reviews[0]
    assert review.previous == first
    assert "<del>" in review.diff and "<ins>" in review.diff and "还款" in review.diff
    renderings = {rendering.profile: rendering for rendering in review.renderings}
    assert set(renderings) >= {"cn-default", "us-regf", "uk-conc"}
    # The one filler ran: the profile's hotline is in, and the family opt-out line is added.
    assert "{hotline}" not in renderings["cn-default"].text and "95188" in renderings["cn-default"].text
    assert renderings["cn-default"].text.endswith("回复TD退订")
    assert renderings["cn-default"].findings == ()
    assert [finding.category for finding in renderings["us-regf"].findings] == ["debt_disclosure"]
    page = response.content.decode()
    assert 'data-profile="us-regf" class="fail"' in page and "debt_disclosure" in page


def test_the_diff_marks_words_and_characters_and_escapes_the_text() -> None:
    assert text_diff_html("a <b> c", "a <i> c") == "a &lt;<del>b</del><ins>i</ins>&gt; c"
    assert text_diff_html("", "<script>") == "<ins>&lt;script&gt;</ins>"
    assert text_diff_html("please call us", "please call me") == "please call <del>us</del><ins>me</ins>"
    assert text_diff_html("请致电", "请尽快致电") == "请<ins>尽快</ins>致电"


def test_a_rejection_needs_a_reason_then_takes_the_template_out_of_use(author, approver) -> None:
    template = family_template()
    version = template_version_create(template=template, body=FIRST, actor=author)
    response = decide(approver, version, "reject", "  ")
    assert response.status_code == 200
    with override("zh-hans"):
        assert gettext("A rejection needs a reason.") in response.content.decode()
    version.refresh_from_db()
    assert not version.is_rejected and not AuditEvent.objects.filter(action="template_rejected").exists()

    assert decide(approver, version, "reject", "Too vague for a relative").status_code == 302
    version.refresh_from_db()
    assert version.is_rejected and version.rejected_by == approver
    assert AuditEvent.objects.filter(action="template_rejected", object_id=str(version.pk)).exists()
    assert template not in family_templates()
    assert f'data-version="{version.pk}"' not in signed_in(approver).get(URL).content.decode()


def test_a_decided_or_superseded_version_answers_409_and_changes_nothing(author, approver) -> None:
    template = family_template()
    first = template_version_create(template=template, body=FIRST, actor=author)
    second = template_version_create(template=template, body=SECOND, actor=author)
    assert decide(approver, first).status_code == 409  # superseded by the second before anyone decided it
    first.refresh_from_db()
    assert not first.is_approved
    assert decide(approver, second).status_code == 302
    assert decide(make_user("frank", RISK_APPROVER), second, "reject", "too late").status_code == 409
    second.refresh_from_db()
    assert second.is_approved and not second.is_rejected
    assert AuditEvent.objects.filter(action__in=["template_approved", "template_rejected"]).count() == 1


def test_roles_and_ids_outside_reach(officer, approver, author) -> None:
    version = template_version_create(template=family_template(), body=FIRST, actor=author)
    assert signed_in(officer).get(URL).status_code == 403
    assert decide(officer, version).status_code == 403
    assert decide(approver, version).status_code == 302
    missing = signed_in(approver).post(f"{URL}999999/decide/", {"decision": "approve"})
    assert missing.status_code == 404
    assert AuditEvent.objects.filter(action="permission_denied", object_id="999999", outcome="not_found").exists()


def test_the_approvers_navigation_links_the_page_in_chinese(approver) -> None:
    page = signed_in(approver).get("/review/").content.decode()
    with override("zh-hans"):
        assert f'<a href="{URL}">{gettext("Template approval")}</a>' in page
        assert gettext("Template approval") != "Template approval"


def test_a_decided_version_cannot_be_changed_even_in_sql(author, approver) -> None:
    version = template_version_create(template=family_template(), body=FIRST, actor=author)
    template_version_decide(version_id=version.pk, decision="approve", reason="", actor=approver)
    for change in ({"approved_at": None, "approved_by": None}, {"decision_reason": "edited"}, {"body": SECOND}):
        with pytest.raises(DatabaseError), transaction.atomic():
            TemplateVersion.objects.filter(pk=version.pk).update(**change)
    version.refresh_from_db()
    assert version.is_approved and version.body == FIRST
