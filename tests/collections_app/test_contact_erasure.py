"""A contact's erasure: no value of theirs is left in any table, the audit log still verifies, a re-import does not
recreate them and their number stays opted out; the rest of the borrower's records keep their rows and words."""

import datetime
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation

from access.roles import RISK_APPROVER
from audit.models import AuditEvent
from audit.services import audit_chain_seal, audit_chain_verify
from collections_app.dpd import lender_today
from collections_app.importers import accounts as importers
from collections_app.messaging.inbound import inbound_sms_take
from collections_app.messaging.opt_outs import phone_hmac, phone_opted_out, phones_import_blocked
from collections_app.models import Complaint, Contact, ErasedPhone, Interaction, LoanAccount, Message, PhoneOptOut
from collections_app.services.accounts import interaction_log
from collections_app.services.complaints import complaint_file
from collections_app.services.erasure import ERASED_TEXT, contacts_erase, phone_forms
from review.models import FamilyContactRequest
from review.services import family_contact_request_decide, family_contact_request_submit
from tests.audit.conftest import audit_keys  # noqa: F401
from tests.conftest import signed_in
from tests.factories import make_portfolio, make_user
from tests.review.conftest import add_failed_attempts, make_family_template

pytestmark = pytest.mark.django_db

CANARY_NAME = "甄卡娜瑞"
CANARY_PHONE = "+8613977001234"
# Every way the canary's values could be written down: the name, the number in E.164, without "+", national.
CANARIES = [CANARY_NAME, *phone_forms(CANARY_PHONE)]
OTHER_PHONE = "+8613977005678"


def _rows(due: datetime.date) -> list[str]:
    account = f"E-1,EB-1,王借款,110101199003074514,+8613800770001,Asia/Shanghai,9000.00,8000.00,{due},cn-consumer,alice"
    return [
        f"{account},{CANARY_NAME},spouse,{CANARY_PHONE},,2025-01-02T10:00:00+08:00",
        f"{account},李另一,parent,{OTHER_PHONE},,2025-01-02T10:00:00+08:00",
    ]


def _import(path: Path) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_accounts", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def canaries_found() -> list[tuple[str, str, str]]:
    """(table, column, canary) for every text or JSON column of every table that holds a canary value."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name)"
            " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
            " AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            for canary in CANARIES:
                cursor.execute(
                    f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1',  # noqa: S608 - catalogue names
                    [f"%{canary}%"],
                )
                if cursor.fetchone():
                    found.append((table, column, canary))
    return found


@pytest.fixture
def alice(db: None) -> User:
    from access.roles import CASE_OFFICER

    return make_user("alice", CASE_OFFICER)


@pytest.fixture
def accounts_csv(tmp_path: Path, alice: User) -> Path:
    make_portfolio("cn-consumer")
    path = tmp_path / "accounts.csv"
    due = lender_today() - datetime.timedelta(days=45)
    path.write_text("\n".join([",".join(importers.ACCOUNT_HEADER), *_rows(due)]) + "\n", encoding="utf-8")
    return path


def _leave_every_trace(alice: User, account: LoanAccount, contact: Contact) -> None:
    """Write the contact's values wherever the app's own flows put them."""
    add_failed_attempts(account, alice)
    request = family_contact_request_submit(
        account=account,
        contact=contact,
        template=make_family_template(),
        justification=f"借款人失联五次，需联系其配偶{CANARY_NAME}，电话{CANARY_PHONE}。",
        requested_by=alice,
    )
    approver = make_user("bea", RISK_APPROVER)
    family_contact_request_decide(request_id=request.pk, decision="approve", reason="规则均满足。", actor=approver)
    inbound_sms_take(phone=CANARY_PHONE, text=f"我是{CANARY_NAME}，你们找我有什么事？", received_at=timezone.now())
    interaction_log(
        account=account,
        officer=alice,
        outcome="no_answer",
        channel=Interaction.Channel.VISIT,
        contact=contact,
        note=f"上门拜访{CANARY_NAME}，不在家。",
    )
    interaction_log(
        account=account,
        officer=alice,
        outcome="refused",
        channel=Interaction.Channel.VISIT,
        note=f"借款人说他的配偶{CANARY_NAME}（13977001234）会还款，但今天拒绝。",
    )
    complaint_file(
        account=account,
        officer=alice,
        complainant=f"contact:{contact.pk}",
        channel="phone",
        category="unwanted_contact",
        text=f"我叫{CANARY_NAME}，我不是借款人，请删除我的号码{CANARY_PHONE}。",
    )
    complaint_file(
        account=account,
        officer=alice,
        complainant="borrower",
        channel="letter",
        category="conduct",
        text=f"催收员打扰了我的妻子{CANARY_NAME}，态度很差。",
    )


@pytest.mark.postgresql_only  # the walk over every column reads PostgreSQL's information_schema
def test_after_a_contacts_erasure_no_value_of_it_remains_in_any_table(
    accounts_csv: Path,
    alice: User,
    auditor: User,
    settings,
    audit_keys,  # noqa: F811
) -> None:
    _import(accounts_csv)
    account = LoanAccount.objects.get(account_number="E-1")
    contact = Contact.objects.get(phone=CANARY_PHONE)
    _leave_every_trace(alice, account, contact)
    before = {table for table, _column, _canary in canaries_found()}
    # The flows did leave the values about: the search would see them.
    assert {
        "collections_app_contact",
        "collections_app_message",
        "collections_app_inboundreply",
        "collections_app_interaction",
        "collections_app_complaint",
        "collections_app_phoneoptout",
        "review_familycontactrequest",
    } <= before

    counts = contacts_erase(contact_ids=[contact.pk], actor=auditor, reason="privacy_request:1")

    assert canaries_found() == []
    assert counts["contacts"] == 1 and counts["messages"] == 1 and counts["inbound_replies"] == 1
    event = AuditEvent.objects.get(action="personal_data_erased")
    assert event.object_label == f"contact:{contact.pk}"
    assert sorted(event.persons) == sorted([f"contact:{contact.pk}", f"borrower:{account.borrower_id}"])
    assert event.detail["reason"] == "privacy_request:1"
    # The events written before the erasure are as they were: the chain seals and verifies.
    audit_chain_seal()
    assert audit_chain_verify().ok


def test_the_erased_contacts_rows_stay_with_their_words_less_its_values(accounts_csv: Path, alice: User) -> None:
    _import(accounts_csv)
    account = LoanAccount.objects.get(account_number="E-1")
    contact = Contact.objects.get(phone=CANARY_PHONE)
    _leave_every_trace(alice, account, contact)

    contacts_erase(contact_ids=[contact.pk], actor=None, reason="privacy_request:1")

    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("", f"erased:{contact.pk}") and contact.erased_at is not None
    assert Contact.objects.get(phone=OTHER_PHONE).name == "李另一"
    borrower_note = Interaction.objects.get(contact__isnull=True, outcome="refused").note
    assert borrower_note == f"借款人说他的配偶{ERASED_TEXT}（{ERASED_TEXT}）会还款，但今天拒绝。"
    assert Interaction.objects.get(contact=contact).note == ERASED_TEXT
    assert Complaint.objects.get(contact=contact).text == ERASED_TEXT
    assert Complaint.objects.get(contact__isnull=True).text == f"催收员打扰了我的妻子{ERASED_TEXT}，态度很差。"
    message = Message.objects.get(contact=contact)
    assert (message.recipient, message.body, message.status) == ("", ERASED_TEXT, "suppressed")
    assert FamilyContactRequest.objects.get().justification == ERASED_TEXT


def test_reimporting_the_file_does_not_recreate_the_contact_and_its_opt_out_holds(
    accounts_csv: Path, alice: User
) -> None:
    _import(accounts_csv)
    contact = Contact.objects.get(phone=CANARY_PHONE)
    PhoneOptOut.objects.create(phone=CANARY_PHONE, source="officer", received_at=timezone.now())

    contacts_erase(contact_ids=[contact.pk], actor=None, reason="privacy_request:1")
    out = _import(accounts_csv)

    assert not Contact.objects.filter(phone=CANARY_PHONE).exists()
    assert Contact.objects.filter(erased_at__isnull=True).count() == 1
    assert "not imported: the number was erased at its owner's request" in out
    assert not PhoneOptOut.objects.exists()
    assert ErasedPhone.objects.get().phone_hmac == phone_hmac(CANARY_PHONE)
    assert phone_opted_out(CANARY_PHONE) and phone_opted_out(f"erased:{contact.pk}")
    assert not phone_opted_out(OTHER_PHONE)
    assert phones_import_blocked([CANARY_PHONE, OTHER_PHONE]) == {CANARY_PHONE}
    # Opting out again by SMS finds the opt-out holding: the number is not written down again.
    assert inbound_sms_take(phone=CANARY_PHONE, text="TD", received_at=timezone.now()) == "opt_out_held"
    assert not PhoneOptOut.objects.exists()


def test_erasing_twice_changes_nothing_more_and_a_reason_must_be_a_code(accounts_csv: Path, alice: User) -> None:
    _import(accounts_csv)
    contact = Contact.objects.get(phone=CANARY_PHONE)
    assert contacts_erase(contact_ids=[contact.pk], actor=None, reason="privacy_request:1")["contacts"] == 1

    assert sum(contacts_erase(contact_ids=[contact.pk], actor=None, reason="privacy_request:1").values()) == 0
    assert AuditEvent.objects.filter(action="personal_data_erased").count() == 1
    with pytest.raises(ValueError, match="reason"):
        contacts_erase(contact_ids=[contact.pk], actor=None, reason=f"asked by {CANARY_NAME}")


def test_the_hmac_is_keyed_by_the_erasure_key(settings) -> None:
    settings.ERASURE_HMAC_KEY = "one-key"
    first = phone_hmac(CANARY_PHONE)
    settings.ERASURE_HMAC_KEY = "another-key"
    assert phone_hmac(CANARY_PHONE) != first
    assert CANARY_PHONE not in first and len(first) == 64


def test_the_erased_contact_leaves_the_account_page_and_its_forms(accounts_csv: Path, alice: User) -> None:
    _import(accounts_csv)
    account = LoanAccount.objects.get(account_number="E-1")
    contact = Contact.objects.get(phone=CANARY_PHONE)
    client = signed_in(alice)
    assert f'value="{contact.pk}"' in client.get(f"/cases/{account.pk}/interactions/new/").content.decode()

    contacts_erase(contact_ids=[contact.pk], actor=None, reason="privacy_request:1")

    page = client.get(f"/cases/{account.pk}/").content.decode()
    assert f"contact:{contact.pk}" not in AuditEvent.objects.filter(action="view").latest("id").persons
    assert "erased:" not in page
    form = client.get(f"/cases/{account.pk}/interactions/new/").content.decode()
    assert f'value="{contact.pk}"' not in form
