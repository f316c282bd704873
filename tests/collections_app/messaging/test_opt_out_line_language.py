"""The opt-out line follows the message language: a profile holds one line per language, a message ends in its own."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.db import IntegrityError, transaction

from collections_app.messaging.outbox import message_enqueue
from collections_app.messaging.render import message_render_preview
from collections_app.models import Message, MessageTemplate, PolicyVersion, TemplateVersion
from collections_app.models.profiles import OPT_OUT_LINE_FIELDS
from collections_app.services.profiles import policy_version_create
from tests.collections_app.messaging.messaging_support import DAYTIME, policy
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db

BODIES = {
    "zh-hans": "您好，请转告其尽快致电我们，谢谢。",
    "en": "Hello, please ask them to call us. Thank you.",
}


def family_template(language: str, author, approver) -> TemplateVersion:
    """An approved family template in `language`."""
    template = MessageTemplate.objects.create(
        code=f"family-{language}",
        audience=Message.Audience.FAMILY,
        channel=Message.Channel.SMS,
        language=language,
        name=f"family {language}",
    )
    return TemplateVersion.objects.create(
        template=template,
        version=1,
        body=BODIES[language],
        created_by=author,
        approved_by=approver,
        approved_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )


def enqueue_family(version: TemplateVersion, profile: PolicyVersion) -> Message:
    account = make_account()
    return message_enqueue(
        borrower=account.borrower,
        account=account,
        contact=make_contact(account.borrower),
        audience="family",
        channel="sms",
        template_version=version,
        policy_version=profile,
        idempotency_key="f1",
    )


@time_machine.travel(DAYTIME, tick=False)
def test_an_english_family_message_ends_with_the_english_opt_out_line(officer, approver):
    message = enqueue_family(family_template("en", officer, approver), policy("cn-default"))
    assert message.status == Message.Status.QUEUED
    assert message.body == "Hello, please ask them to call us. Thank you. Reply STOP to opt out"
    assert "回复" not in message.body


@time_machine.travel(DAYTIME, tick=False)
def test_a_chinese_family_message_ends_with_the_chinese_opt_out_line(officer, approver):
    message = enqueue_family(family_template("zh-hans", officer, approver), policy("cn-default"))
    assert message.body == "您好，请转告其尽快致电我们，谢谢。回复TD退订"


@pytest.mark.parametrize(
    ("code", "language", "line"),
    [
        ("cn-default", "zh-hans", "回复TD退订"),
        ("cn-default", "en", "Reply STOP to opt out"),
        ("us-regf", "en", "Reply STOP to opt out"),
        ("us-regf", "zh-hans", "回复STOP退订"),
        ("uk-conc", "en", "Reply STOP to opt out"),
        ("uk-conc", "zh-hans", "回复STOP退订"),
    ],
)
def test_each_built_in_profile_has_a_line_in_each_language(officer, approver, code, language, line):
    borrower = make_account().borrower
    text = message_render_preview(
        template_version=family_template(language, officer, approver), borrower=borrower, policy_version=policy(code)
    )
    assert text.endswith(line)


def test_every_message_language_has_its_opt_out_line_field():
    assert set(OPT_OUT_LINE_FIELDS) == {code for code, _ in settings.LANGUAGES}
    fields = {f.name for f in PolicyVersion._meta.fields}
    assert set(OPT_OUT_LINE_FIELDS.values()) <= fields


def test_a_language_without_a_line_gets_the_line_of_the_profile_message_language():
    assert policy("cn-default").opt_out_line_for("fr") == "回复TD退订"
    assert policy("us-regf").opt_out_line_for("fr") == "Reply STOP to opt out"


def test_a_new_version_keeps_both_lines_and_changes_the_one_edited(officer):
    current = policy("cn-default")
    new = policy_version_create(profile=current.profile, changes={"opt_out_line_en": "Text STOP to unsubscribe"})
    assert (new.opt_out_line, new.opt_out_line_en) == ("回复TD退订", "Text STOP to unsubscribe")
    assert policy("cn-default").opt_out_line_for("en") == "Text STOP to unsubscribe"


@pytest.mark.parametrize("field", sorted(OPT_OUT_LINE_FIELDS.values()))
def test_the_database_refuses_a_version_without_an_opt_out_line(field):
    current = policy("cn-default")
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=current.pk).update(**{field: ""})
