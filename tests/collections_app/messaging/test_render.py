"""The placeholder filler's SQL twin (the ladder's) writes exactly the text its Python form writes."""

import pytest
from django.db import connection

from collections_app.messaging.render import body_expression, render_body, render_sql
from collections_app.models import LoanAccount, Message, MessageTemplate, PolicyVersion, TemplateVersion
from tests.collections_app.messaging.messaging_support import policy
from tests.factories import make_account, make_borrower

pytestmark = pytest.mark.django_db

# (language, body): {opt_out} is filled with the profile's line in the template's language.
BODIES = [
    ("zh-hans", "{borrower_name}您好，{lender_name}提醒您按时还款，客服电话{hotline}。{opt_out}"),
    ("en", "Dear {borrower_name}: {borrower_name}, please call {hotline}. {opt_out}"),
    ("en", "{lender_name}: no name here"),
    ("zh-hans", "plain text, no placeholders"),
    ("en", "{borrower_name}"),
]
NAMES = ["张三丰", "李", "Alice Smith", "O'Brien", "欧阳娜娜"]


def template_version(language: str, body: str) -> TemplateVersion:
    return TemplateVersion(body=body, template=MessageTemplate(language=language))


@pytest.fixture
def profile() -> PolicyVersion:
    version = policy()
    # Quotes and percent signs must survive as literals in both forms.
    version.lender_name = "某某消费金融 'Lender' 100%"
    version.service_hotlines = ["400-800-1234", "400-800-9999"]
    return version


def python_form(version: TemplateVersion, name: str, profile: PolicyVersion) -> str:
    return render_body(
        version.body,
        borrower_name=name,
        policy_version=profile,
        audience=Message.Audience.BORROWER,
        language=version.template.language,
    )


def test_body_expression_matches_the_python_filler(profile):
    assert connection.vendor == "postgresql"
    for name in NAMES:
        account = make_account(borrower=make_borrower(name=name))
        for language, body in BODIES:
            version = template_version(language, body)
            sql_text = (
                LoanAccount.objects.filter(pk=account.pk)
                .annotate(text=body_expression(version, profile))
                .values_list("text", flat=True)
                .get()
            )
            assert sql_text == python_form(version, name, profile), (body, name)


def test_render_sql_matches_the_python_filler_for_each_stage(profile):
    versions = {
        (f"stage{rank}", "sms"): template_version(language, body) for rank, (language, body) in enumerate(BODIES)
    }
    ranks = {key: rank for rank, key in enumerate(versions)}
    case_sql, params = render_sql(profile, versions, ranks)
    for name in NAMES:
        for key, rank in ranks.items():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {case_sql} FROM (SELECT %s::int AS stage) AS p, (SELECT %s::text AS name) AS b",  # noqa: S608
                    [*params, rank, name],
                )
                (sql_text,) = cursor.fetchone()
            assert sql_text == python_form(versions[key], name, profile), (key, name)


def test_both_forms_fill_the_opt_out_line_of_the_template_language(profile):
    account = make_account(borrower=make_borrower(name="张三丰"))
    for language, line in (("zh-hans", profile.opt_out_line), ("en", profile.opt_out_line_en)):
        version = template_version(language, "{borrower_name}: {opt_out}")
        assert python_form(version, "张三丰", profile) == f"张**: {line}"
        sql_text = (
            LoanAccount.objects.filter(pk=account.pk)
            .annotate(text=body_expression(version, profile))
            .values_list("text", flat=True)
            .get()
        )
        assert sql_text == f"张**: {line}"
