"""The demo's complaint register: officer1 finds two complaints, the one past its deadline first and marked."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from collections_app.models import Complaint
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_officer1_finds_two_complaints_one_overdue_first_and_a_second_seed_adds_none(settings) -> None:
    settings.DEBUG = True  # seed_demo runs only with DEBUG on
    call_command("seed_demo", stdout=None)
    response = signed_in(User.objects.get(username="officer1")).get("/complaints/")
    assert response.status_code == 200
    listed = response.context["complaints"]
    assert [c.overdue for c in listed] == [True, False]
    assert 'class="complaint overdue"' in response.content.decode()
    call_command("seed_demo", stdout=None)
    assert Complaint.objects.count() == 2
