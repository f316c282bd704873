"""A family member's complaint and deletion request in a real browser (Playwright driving Debian's Chromium).

officer1 records a complaint from a borrower's contact about being called, then the contact's request to delete
their data; auditor1 takes the request in hand and fulfils it; the contact is gone from the account page, and
its name and number from every page the officer opens. The clock is fixed at 10:00 Shanghai on a weekday.
"""

import re

import pytest
from django.conf import settings

from collections_app.models import Complaint, Contact, DataSubjectRequest, ErasedPhone, PhoneOptOut
from demo.accounts import seed_users
from demo.totp_devices import demo_totp_devices_enrol
from tests.audit.cleanup import audit_tables_cleared_on_flush  # noqa: F401 - flushes past the audit triggers
from tests.factories import make_account, make_contact
from tests.review.test_journey_browser import (  # noqa: F401 - fixtures shared with the family-contact journey
    browser,
    clock,
    plain_http_live_server,
    sign_in,
    sign_out,
    step,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CONTACT_NAME = "柯南德尔"
CONTACT_PHONE = "+8613912345678"
COMPLAINT_WORDS = "我不是借款人，你们一天打了我三次电话，请不要再打给我。"
DELETION_WORDS = "我没有同意你们保存我的号码，请删除我的全部信息。"


def contact_rows(page: object, contact: Contact) -> int:
    """How many times the account page offers to reveal the contact's name: once per row it is listed in."""
    return page.locator(f"input[name=field][value='contact.{contact.pk}.name']").count()


def test_a_contacts_complaint_and_deletion_journey(clock, browser, live_server) -> None:  # noqa: F811 - fixtures
    plain_http_live_server(live_server)
    users = seed_users(password=settings.DEMO_PASSWORD)
    demo_totp_devices_enrol(users=users.values())
    account = make_account(users["officer1"], dpd=40)
    contact = make_contact(account.borrower, name=CONTACT_NAME, phone=CONTACT_PHONE)
    base = live_server.url

    page = browser.new_page(locale="zh-CN")
    with step(page, "privacy-1-officer-sees-the-contact"):
        sign_in(page, base, "officer1")
        page.goto(f"{base}/cases/{account.pk}/")
        assert contact_rows(page, contact) == 1
        assert CONTACT_PHONE not in page.content()  # masked until revealed

    with step(page, "privacy-2-officer-records-the-complaint"):
        page.goto(f"{base}/complaints/new/?account={account.pk}")
        page.select_option("select[name=complainant]", f"contact:{contact.pk}")
        page.select_option("select[name=channel]", "phone")
        page.select_option("select[name=category]", "unwanted_contact")
        page.fill("textarea[name=text]", COMPLAINT_WORDS)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        complaint = Complaint.objects.get(contact=contact)
        assert complaint.category == "unwanted_contact"
        # Being called was the complaint: the number is opted out at once.
        assert PhoneOptOut.objects.filter(phone=CONTACT_PHONE).exists()

    with step(page, "privacy-3-officer-records-the-deletion-request"):
        page.goto(f"{base}/cases/{account.pk}/")
        page.click(f"a[href='/privacy/requests/new/?account={account.pk}']")
        page.wait_for_load_state()
        page.select_option("select[name=subject]", f"contact:{contact.pk}")
        page.select_option("select[name=kind]", "deletion")
        page.fill("textarea[name=text]", DELETION_WORDS)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        request = DataSubjectRequest.objects.get(contact=contact)
        assert (request.kind, request.status) == ("deletion", "received")
        # Officers never decide: the request waits for a compliance auditor.
        assert page.goto(f"{base}/privacy/requests/{request.pk}/").status == 403
    sign_out(page)

    with step(page, "privacy-4-auditor-fulfils-the-deletion"):
        sign_in(page, base, "auditor1")
        page.goto(f"{base}/privacy/requests/")
        page.click(f"a[href='/privacy/requests/{request.pk}/']")
        page.wait_for_url(re.compile(rf"/privacy/requests/{request.pk}/$"))
        page.check("input[name=decision][value=start]")
        page.fill("textarea[name=reason]", "核实为借款人登记的紧急联系人本人来电。")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(rf"/privacy/requests/{request.pk}/$"))
        page.check("input[name=decision][value=fulfil]")
        page.fill("textarea[name=reason]", "联系人依《个人信息保护法》第四十七条要求删除，予以删除。")
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(rf"/privacy/requests/{request.pk}/$"))
        request.refresh_from_db()
        assert request.status == "fulfilled"
        assert CONTACT_NAME not in page.content() and CONTACT_PHONE not in page.content()
    sign_out(page)

    with step(page, "privacy-5-the-contact-is-gone-from-the-account-page"):
        sign_in(page, base, "officer1")
        page.goto(f"{base}/cases/{account.pk}/")
        assert contact_rows(page, contact) == 0
        contact.refresh_from_db()
        assert contact.erased_at is not None
        assert CONTACT_NAME not in contact.name and CONTACT_PHONE not in contact.phone
        # The number lives on only as its keyed hash: an import cannot bring the contact back.
        assert ErasedPhone.objects.count() == 1
        page.goto(f"{base}/complaints/")
        assert CONTACT_NAME not in page.content() and CONTACT_PHONE not in page.content()
    page.close()
