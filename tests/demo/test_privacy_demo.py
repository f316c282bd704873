"""The demo's data-subject requests: auditor1 finds a contact's access request waiting for a decision, reached from
the navigation, and can fulfil it and download the file."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from collections_app.models import DataSubjectRequest
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_auditor1_finds_a_contacts_pending_access_request_and_a_second_seed_adds_none(settings) -> None:
    settings.DEBUG = True  # seed_demo runs only with DEBUG on
    call_command("seed_demo", stdout=None)
    client = signed_in(User.objects.get(username="auditor1"))
    landing = client.get("/audit/")
    assert 'href="/privacy/requests/"' in landing.content.decode()
    response = client.get("/privacy/requests/")
    assert response.status_code == 200
    [request] = response.context["requests"]
    assert (request.kind, request.status, request.contact_id is not None) == ("access", "received", True)
    decided = client.post(f"/privacy/requests/{request.pk}/decide/", {"decision": "fulfil", "reason": "Verified."})
    assert decided.status_code == 303
    assert client.get(f"/privacy/requests/{request.pk}/access-file/").status_code == 200
    call_command("seed_demo", stdout=None)
    assert DataSubjectRequest.objects.count() == 1
