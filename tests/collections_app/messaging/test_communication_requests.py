"""An officer records, from the account page, what a borrower or contact asked for by phone."""

import pytest
from django.contrib.auth.models import User

from audit.models import AuditEvent
from collections_app.models import ChannelStop, PhoneOptOut
from tests.conftest import signed_in
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def test_officer_records_a_stopped_sms_channel(officer: User) -> None:
    account = make_account(officer)
    response = signed_in(officer).post(f"/cases/{account.pk}/communication/", {"request": "stop_sms"})
    assert response.status_code == 303
    assert ChannelStop.objects.filter(borrower=account.borrower, channel="sms").exists()
    assert AuditEvent.objects.filter(action="channel_stopped", actor_username=officer.username).exists()


def test_officer_records_a_cease_request(officer: User) -> None:
    account = make_account(officer)
    response = signed_in(officer).post(f"/cases/{account.pk}/communication/", {"request": "cease"})
    assert response.status_code == 303
    account.borrower.refresh_from_db()
    assert account.borrower.cease_requested_at is not None
    assert AuditEvent.objects.filter(action="cease_requested").exists()


def test_officer_records_a_contacts_opt_out_by_phone_number(officer: User) -> None:
    account = make_account(officer)
    contact = make_contact(account.borrower)
    response = signed_in(officer).post(
        f"/cases/{account.pk}/communication/", {"request": "contact_opt_out", "contact": contact.pk}
    )
    assert response.status_code == 303
    opt_out = PhoneOptOut.objects.get(phone=contact.phone)
    assert opt_out.source == PhoneOptOut.Source.OFFICER and opt_out.recorded_by == officer
    assert AuditEvent.objects.filter(action="opt_out").exists()


def test_an_opt_out_for_another_borrowers_contact_is_refused_and_writes_nothing(officer: User) -> None:
    account = make_account(officer)
    stranger = make_contact(make_account(officer).borrower)
    response = signed_in(officer).post(
        f"/cases/{account.pk}/communication/", {"request": "contact_opt_out", "contact": stranger.pk}
    )
    assert response.status_code == 200
    assert "contact" in response.context["form"].errors
    assert not PhoneOptOut.objects.exists()


def test_an_opt_out_without_a_contact_is_refused(officer: User) -> None:
    account = make_account(officer)
    response = signed_in(officer).post(f"/cases/{account.pk}/communication/", {"request": "contact_opt_out"})
    assert response.status_code == 200
    assert not PhoneOptOut.objects.exists()


def test_another_officers_account_is_404(officer: User, other_officer: User) -> None:
    account = make_account(other_officer)
    response = signed_in(officer).post(f"/cases/{account.pk}/communication/", {"request": "cease"})
    assert response.status_code == 404
    account.borrower.refresh_from_db()
    assert account.borrower.cease_requested_at is None
