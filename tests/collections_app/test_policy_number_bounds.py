"""Every count of days or hours a policy version holds stays inside the calendar (the rules add it to today): a
window of a billion days once turned the review page into a 500; now it is a field error, and the database
refuses it too."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from collections_app.models import PolicyProfile, PolicyVersion
from collections_app.models.profiles import NUMBER_BOUNDS
from collections_app.services.profiles import policy_version_create
from tests.collections_app.test_policy_profile_versions import signed_in

pytestmark = pytest.mark.django_db


def cn_default() -> PolicyProfile:
    return PolicyProfile.objects.get(code="cn-default")


def test_every_built_in_version_lies_within_the_bounds() -> None:
    for version in PolicyVersion.objects.all():
        version.clean()


@pytest.mark.parametrize(("field", "value"), [(field, high + 1) for field, (_, high) in NUMBER_BOUNDS.items()])
def test_a_number_above_its_bound_is_a_field_error_and_adds_no_version(field: str, value: int) -> None:
    versions = PolicyVersion.objects.count()
    with pytest.raises(ValidationError) as refused:
        policy_version_create(profile=cn_default(), changes={field: value})
    assert field in refused.value.message_dict
    assert PolicyVersion.objects.count() == versions


@pytest.mark.parametrize("field", ["in_app_from_dpd", "call_task_from_dpd", "promise_horizon_days"])
def test_a_number_below_its_bound_is_a_field_error(field: str) -> None:
    low = NUMBER_BOUNDS[field][0]
    with pytest.raises(ValidationError) as refused:
        policy_version_create(profile=cn_default(), changes={field: low - 1})
    assert field in refused.value.message_dict


@pytest.mark.parametrize("days", [[1, 999_999_999], [-4000], ["3"], [True], [1.5], "1,3,7", {"a": 1}, None])
def test_a_ladder_day_list_of_anything_but_dpds_within_ten_years_is_a_field_error(days: object) -> None:
    for field in ("reminder_days", "sms_days"):
        with pytest.raises(ValidationError) as refused:
            policy_version_create(profile=cn_default(), changes={field: days})
        assert field in refused.value.message_dict


def test_the_bounds_themselves_are_taken() -> None:
    changes = {field: high for field, (_, high) in NUMBER_BOUNDS.items()}
    version = policy_version_create(
        profile=cn_default(), changes=changes | {"sms_days": [3650], "reminder_days": [-3650]}
    )
    assert version.failed_attempts_window_days == 3650


@pytest.mark.parametrize("field", ["failed_attempts_window_days", "queue_overdue_hours", "promise_horizon_days"])
def test_the_database_refuses_a_number_outside_its_bound(field: str) -> None:
    version = PolicyVersion.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=version.pk).update(**{field: NUMBER_BOUNDS[field][1] + 1})


def test_the_admin_shows_a_window_of_a_billion_days_as_a_field_error_and_adds_no_version(admin_user) -> None:
    current = PolicyVersion.objects.filter(profile__code="cn-default").order_by("-version").first()
    url = f"/admin/collections_app/policyversion/{current.pk}/change/"
    client = signed_in(admin_user)
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items() if not isinstance(v, bool) or v}
    data["failed_attempts_window_days"] = 999_999_999
    versions = PolicyVersion.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "failed_attempts_window_days" in response.context["adminform"].form.errors
    assert PolicyVersion.objects.count() == versions
