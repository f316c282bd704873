"""No policy version crosses the legal floors of its profile's kind (DOMAIN.md, "Legal floors"), each refusal
naming its rule and source; the free text a message carries passes the firewall; a portfolio uses only a profile
of its kind, and neither kind ever changes (the database refuses it too)."""

import datetime
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from collections_app.legal_floors import legal_floor_errors
from collections_app.models import PolicyProfile, PolicyVersion, Portfolio
from collections_app.services.profiles import policy_version_create
from tests.collections_app.test_policy_profile_versions import signed_in
from tests.factories import make_portfolio

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """The refusals are read in English here, whatever the settings' language (zh-hans without DATABASE_URL)."""
    with translation.override("en"):
        yield


# (profile, a change below one floor, the field refused, words of the rule's source)
BELOW_A_FLOOR = [
    ("cn-default", {"send_window_start": datetime.time(5, 0)}, "send_window_start", "NIFA"),
    ("cn-default", {"send_window_end": datetime.time(23, 59)}, "send_window_end", "NIFA"),
    ("cn-default", {"max_connected_calls_per_day": 4}, "max_connected_calls_per_day", "NIFA"),
    ("cn-default", {"max_connected_calls_per_day": None}, "max_connected_calls_per_day", "NIFA"),
    ("cn-default", {"family_min_dpd": 0}, "family_min_dpd", "NIFA"),
    ("cn-default", {"firewall_mode": "us-regf"}, "firewall_mode", "NIFA"),
    ("cn-default", {"family_only_when_unreachable": False}, "family_only_when_unreachable", "NIFA"),
    ("us-regf", {"send_window_end": datetime.time(21, 30)}, "send_window_end", "1006.6(b)(1)(i)"),
    ("us-regf", {"max_call_attempts": 100}, "max_call_attempts", "1006.14(b)"),
    ("us-regf", {"max_call_attempts": None}, "max_call_attempts", "1006.14(b)"),
    ("us-regf", {"call_attempts_window_days": 6}, "max_call_attempts", "1006.14(b)"),
    ("us-regf", {"no_calls_after_conversation_days": 6}, "no_calls_after_conversation_days", "1006.14(b)"),
    ("us-regf", {"contact_once_only": False}, "contact_once_only", "1006.10"),
    ("uk-conc", {"send_window_start": datetime.time(7, 59)}, "send_window_start", "CONC 7.9"),
    ("uk-conc", {"send_window_end": datetime.time(22, 0)}, "send_window_end", "CONC 7.9"),
]


@pytest.mark.parametrize(("code", "change", "field", "source"), BELOW_A_FLOOR)
def test_a_version_below_a_floor_is_refused_naming_the_rule_and_its_source(
    code: str, change: dict, field: str, source: str
) -> None:
    versions = PolicyVersion.objects.count()
    with pytest.raises(ValidationError) as refused:
        policy_version_create(profile=PolicyProfile.objects.get(code=code), changes=change)
    [message] = refused.value.message_dict[field]
    assert message.startswith("Below the legal floor:") and source in message
    assert PolicyVersion.objects.count() == versions


def test_the_floors_themselves_are_allowed() -> None:
    cn = policy_version_create(
        profile=PolicyProfile.objects.get(code="cn-default"),
        changes={"send_window_end": datetime.time(22, 0), "family_min_dpd": 30, "max_connected_calls_per_day": 3},
    )
    assert cn.send_window_end == datetime.time(22, 0)


def test_every_seeded_version_keeps_the_floors_of_its_kind() -> None:
    for version in PolicyVersion.objects.select_related("profile"):
        assert legal_floor_errors(version.profile.kind, version) == {}, version
        version.full_clean()


def test_the_built_in_profiles_and_portfolios_have_their_kinds() -> None:
    assert dict(PolicyProfile.objects.values_list("code", "kind")) == {
        "cn-default": "cn",
        "us-regf": "us",
        "uk-conc": "uk",
    }
    assert make_portfolio("us-book", profile="us-regf").kind == "us"


def test_family_contact_only_when_unreachable_is_on_for_the_cn_profiles_only() -> None:
    # The migration turned it on for every existing cn version; a new version of any profile copies its own.
    on = dict(PolicyVersion.objects.values_list("profile__code", "family_only_when_unreachable"))
    assert on == {"cn-default": True, "us-regf": False, "uk-conc": False}
    assert PolicyVersion().family_only_when_unreachable is False


def test_an_opt_out_line_carrying_an_amount_in_arabic_indic_digits_is_refused_by_the_firewall() -> None:
    with pytest.raises(ValidationError) as refused:
        policy_version_create(
            profile=PolicyProfile.objects.get(code="cn-default"), changes={"opt_out_line": "回复TD退订 ٥٠٠٠元"}
        )
    [message] = refused.value.message_dict["opt_out_line"]
    assert "content firewall" in message and "amount" in message


def test_an_english_opt_out_line_telling_a_third_party_of_the_debt_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        policy_version_create(
            profile=PolicyProfile.objects.get(code="uk-conc"), changes={"opt_out_line_en": "Reply STOP; they owe 500"}
        )
    assert "opt_out_line_en" in refused.value.message_dict


def test_the_admin_refuses_a_version_below_a_floor_with_a_field_error(admin_user) -> None:
    current = PolicyVersion.objects.filter(profile__code="cn-default").order_by("-version").first()
    url = f"/admin/collections_app/policyversion/{current.pk}/change/"
    client = signed_in(admin_user)
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if not isinstance(v, bool) or v}
    data["family_min_dpd"] = 0
    versions = PolicyVersion.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "NIFA" in str(response.context["adminform"].form.errors["family_min_dpd"])
    assert PolicyVersion.objects.count() == versions


def test_a_portfolio_cannot_switch_to_a_profile_of_another_kind() -> None:
    portfolio = make_portfolio()
    portfolio.policy_profile = PolicyProfile.objects.get(code="uk-conc")
    with pytest.raises(ValidationError) as refused:
        portfolio.full_clean()
    assert "policy_profile" in refused.value.message_dict


def test_a_portfolio_of_one_kind_cannot_be_created_on_a_profile_of_another() -> None:
    portfolio = Portfolio(
        code="mixed", name="Mixed", kind="cn", policy_profile=PolicyProfile.objects.get(code="us-regf")
    )
    with pytest.raises(ValidationError):
        portfolio.full_clean()


def test_the_database_refuses_a_portfolio_on_a_profile_of_another_kind() -> None:
    portfolio = make_portfolio()
    uk = PolicyProfile.objects.get(code="uk-conc")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE collections_app_portfolio SET policy_profile_id = %s WHERE id = %s", [uk.pk, portfolio.pk]
        )
    with pytest.raises(DatabaseError), transaction.atomic():
        Portfolio.objects.create(code="mixed", name="Mixed", kind="cn", policy_profile=uk)


def test_the_database_refuses_to_change_a_kind() -> None:
    portfolio = make_portfolio()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE collections_app_policyprofile SET kind = 'us' WHERE code = 'cn-default'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE collections_app_portfolio SET kind = 'uk' WHERE id = %s", [portfolio.pk])
    assert PolicyProfile.objects.get(code="cn-default").kind == "cn"


def test_the_admin_shows_a_kind_read_only_once_created(admin_user) -> None:
    client = signed_in(admin_user)
    portfolio = make_portfolio()
    profile = PolicyProfile.objects.get(code="cn-default")
    for url in (
        f"/admin/collections_app/portfolio/{portfolio.pk}/change/",
        f"/admin/collections_app/policyprofile/{profile.pk}/change/",
    ):
        assert "kind" not in client.get(url).context["adminform"].form.fields
