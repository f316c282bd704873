"""Inbound replies: opt-out wordings read after normalising, and every other reply kept, audited and routed.

A reply from the number of one borrower (their own, or a contact's) lands in the inbox on that borrower's
accounts; one from a number that matches no one, or several borrowers, lands in the compliance inbox.
"""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from collections_app.masking import mask_phone
from collections_app.messaging.inbound import is_opt_out_keyword, normalise_reply
from collections_app.models import ChannelStop, InboundReply, PhoneOptOut
from tests.audit.helpers import assert_no_personal_values, audit_mark, events_since
from tests.collections_app.messaging.test_webhook_gateway import INBOUND, SECRET, inbound, post
from tests.conftest import signed_in
from tests.factories import make_account, make_borrower, make_contact

pytestmark = pytest.mark.django_db

# What borrowers and contacts send to say "no more": ours, the carriers' standard keywords, and their variants.
OPT_OUT_WORDINGS = [
    "TD",
    "td",
    "TD退订",
    "退订TD",
    "Stop.",
    "ＴＤ",
    "unsubscribe",
    "退订",
    "T",
    "STOP",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "Quit!",
    "ｓｔｏｐ！",
    "退订。",
    "回复TD退订",
    "回T退订",
    "请退订",
    "我要退订",
    "T D",
    "t\u200bd",
    "\u3000stop\n",
    "Stop please",
    "opt out",
    "revoke",
    "拒收",
    "R",
    "取消",
    "取消订阅",
    "请勿再发",
    "不要再发",
    "不要再发了",
    "别再发短信了",
    "请不要再给我发信息",
    "𝐒𝐓𝐎𝐏",
    "🛑 STOP 🛑",
]
# Replies an officer must read: none is an opt-out on its own words.
NOT_OPT_OUTS = [
    "我明天还",
    "好的，月底前还清",
    "N",
    "No",
    "不要",
    "stop calling my mother",
    "I will pay on Friday",
    "取消承诺",
    "别催了",
    "",
    "？",
    "Who is this?",
]


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.GATEWAY_WEBHOOK_SECRET = SECRET


@pytest.mark.parametrize("text", OPT_OUT_WORDINGS)
def test_each_opt_out_wording_from_a_borrower_stops_their_sms_and_is_not_kept_as_a_reply(text):
    account = make_account()
    assert post(INBOUND, inbound(account.borrower.phone, text)).status_code == 204
    stop = ChannelStop.objects.get(borrower=account.borrower, channel="sms")
    assert stop.source == "sms_reply"
    assert AuditEvent.objects.filter(action="channel_stopped", object_id=str(stop.pk)).exists()
    assert not InboundReply.objects.exists()
    assert not AuditEvent.objects.filter(action="inbound_reply").exists()


@pytest.mark.parametrize("text", ["TD退订", "退订TD", "Stop.", "ＴＤ", "unsubscribe", "STOPALL", "不要再发了"])
def test_each_opt_out_wording_from_a_contact_opts_the_number_out(text):
    account = make_account()
    contact = make_contact(account.borrower)
    assert post(INBOUND, inbound(contact.phone, text)).status_code == 204
    assert PhoneOptOut.objects.get(phone=contact.phone).source == "sms_reply"
    assert AuditEvent.objects.filter(action="opt_out").count() == 1
    assert not InboundReply.objects.exists()


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_a_reply_that_only_mentions_or_resembles_a_keyword_is_no_opt_out(text):
    assert not is_opt_out_keyword(text)


def test_normalising_folds_width_case_and_drops_spaces_punctuation_and_invisible_marks():
    assert normalise_reply(" Ｔ\u200bＤ，退订！\n") == "td退订"
    assert normalise_reply("S T O P.") == "stop"


def test_a_borrowers_reply_lands_in_their_account_inbox_with_an_audit_event_holding_no_values(officer):
    account = make_account(officer)
    borrower = account.borrower
    assert post(INBOUND, inbound(borrower.phone, "我明天还五百")).status_code == 204
    reply = InboundReply.objects.get()
    routed = (reply.borrower_id, reply.contact_id, reply.compliance, reply.matched_borrowers)
    assert routed == (borrower.pk, None, False, 1)
    assert reply.text == "我明天还五百" and reply.phone == borrower.phone
    assert reply.received_at.isoformat() == "2026-03-10T02:00:00+00:00"
    event = AuditEvent.objects.get(action="inbound_reply")
    assert (event.object_type, event.object_id) == ("inboundreply", str(reply.pk))
    assert event.persons == [f"borrower:{borrower.pk}"]
    assert event.detail == {"compliance": False, "matched_borrowers": 1, "from": "borrower"}
    assert_no_personal_values([event], [borrower.phone, borrower.phone[-8:], mask_phone(borrower.phone), "五百"])
    assert not ChannelStop.objects.exists() and not PhoneOptOut.objects.exists()


def test_the_officer_reads_the_reply_masked_on_the_account_page_and_the_view_event_names_it(officer):
    account = make_account(officer)
    contact = make_contact(account.borrower, phone="+8613912345678")
    post(INBOUND, inbound(contact.phone, "他出差了，下周回来"))
    mark = audit_mark()
    response = signed_in(officer).get(f"/cases/{account.pk}/")
    content = response.content.decode()
    assert "他出差了，下周回来" in content
    assert "139****5678" in content and contact.phone not in content and "13912345678" not in content
    [reply] = response.context["replies"]
    assert reply.contact == contact
    [event] = events_since(mark, action="view")
    assert {"inbound_reply.phone", "inbound_reply.text"} <= set(event.fields)
    assert {f"borrower:{account.borrower_id}", f"contact:{contact.pk}"} <= set(event.persons)


def test_a_reply_shows_on_every_account_of_its_borrower_and_no_other(officer):
    first = make_account(officer)
    second = make_account(officer, borrower=first.borrower)
    unrelated = make_account(officer)
    post(INBOUND, inbound(first.borrower.phone, "已经还了"))
    client = signed_in(officer)
    assert len(client.get(f"/cases/{first.pk}/").context["replies"]) == 1
    assert len(client.get(f"/cases/{second.pk}/").context["replies"]) == 1
    assert client.get(f"/cases/{unrelated.pk}/").context["replies"] == []


def test_the_officer_marks_a_reply_read_once_and_it_is_audited(officer):
    account = make_account(officer)
    post(INBOUND, inbound(account.borrower.phone, "收到"))
    reply = InboundReply.objects.get()
    client = signed_in(officer)
    url = f"/cases/{account.pk}/replies/{reply.pk}/read/"
    mark = audit_mark()
    assert client.post(url).status_code == 303
    reply.refresh_from_db()
    assert reply.read_by == officer and reply.read_at is not None
    first_read = reply.read_at
    assert client.post(url).status_code == 303
    reply.refresh_from_db()
    assert reply.read_at == first_read
    [event] = events_since(mark, action="update")
    assert (event.object_type, event.object_id, event.fields) == ("inboundreply", str(reply.pk), ["read_at"])
    assert event.persons == [f"borrower:{account.borrower_id}"]


def test_another_caseloads_officer_cannot_see_or_mark_the_inbox(officer, other_officer):
    account = make_account(officer)
    own = make_account(other_officer)
    post(INBOUND, inbound(account.borrower.phone, "收到"))
    reply = InboundReply.objects.get()
    client = signed_in(other_officer)
    mark = audit_mark()
    assert client.get(f"/cases/{account.pk}/").status_code == 404
    assert client.post(f"/cases/{account.pk}/replies/{reply.pk}/read/").status_code == 404
    # Nor through an account of their own: the reply is not its borrower's.
    assert client.post(f"/cases/{own.pk}/replies/{reply.pk}/read/").status_code == 404
    reply.refresh_from_db()
    assert reply.read_at is None
    assert len(events_since(mark, action="permission_denied", outcome="not_found")) == 3


def test_a_reply_from_an_unknown_number_goes_to_the_compliance_inbox(officer, auditor):
    account = make_account(officer)
    assert post(INBOUND, inbound("+8613700009999", "你们是谁？")).status_code == 204
    reply = InboundReply.objects.get()
    assert (reply.borrower_id, reply.compliance, reply.matched_borrowers, reply.persons) == (None, True, 0, [])
    event = AuditEvent.objects.get(action="inbound_reply")
    assert event.detail == {"compliance": True, "matched_borrowers": 0, "from": "unmatched"}
    assert signed_in(officer).get(f"/cases/{account.pk}/").context["replies"] == []
    response = signed_in(auditor).get("/inbox/compliance/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "你们是谁？" in content and "137****9999" in content and "13700009999" not in content


def test_a_number_shared_by_two_borrowers_goes_to_the_compliance_inbox_naming_both(officer, auditor):
    first = make_account(officer)
    second = make_account(officer)
    shared = make_contact(second.borrower, phone=first.borrower.phone)
    post(INBOUND, inbound(first.borrower.phone, "这个号码现在是我的"))
    reply = InboundReply.objects.get()
    assert (reply.compliance, reply.matched_borrowers, reply.borrower_id, reply.contact_id) == (True, 2, None, None)
    persons = {f"borrower:{first.borrower_id}", f"borrower:{second.borrower_id}", f"contact:{shared.pk}"}
    assert set(AuditEvent.objects.get(action="inbound_reply").persons) == persons
    client = signed_in(officer)
    assert client.get(f"/cases/{first.pk}/").context["replies"] == []
    assert client.get(f"/cases/{second.pk}/").context["replies"] == []
    mark = audit_mark()
    response = signed_in(auditor).get("/inbox/compliance/")
    assert [r.pk for r in response.context["page"].replies] == [reply.pk]
    [event] = events_since(mark, action="list")
    assert (event.object_type, event.role) == ("inboundreply", "compliance_auditor")
    assert set(event.persons) == persons
    assert {"inbound_reply.phone", "inbound_reply.text"} <= set(event.fields)


def test_two_borrowers_with_the_same_own_number_are_several_borrowers():
    first = make_borrower()
    make_borrower(phone=first.phone)
    post(INBOUND, inbound(first.phone, "hello"))
    assert InboundReply.objects.get().matched_borrowers == 2


def test_only_compliance_auditors_open_the_compliance_inbox_and_mark_its_replies_read(officer, auditor):
    post(INBOUND, inbound("+8613700009999", "hello"))
    reply = InboundReply.objects.get()
    mark = audit_mark()
    assert signed_in(officer).get("/inbox/compliance/").status_code == 403
    assert signed_in(officer).post(f"/inbox/compliance/{reply.pk}/read/").status_code == 403
    assert len(events_since(mark, action="permission_denied")) == 2
    assert Client().get("/inbox/compliance/").status_code == 302
    client = signed_in(auditor)
    assert client.post(f"/inbox/compliance/{reply.pk}/read/").status_code == 303
    reply.refresh_from_db()
    assert reply.read_by == auditor
    [event] = events_since(mark, action="update")
    assert (event.object_id, event.role) == (str(reply.pk), "compliance_auditor")


def test_an_account_reply_is_not_markable_from_the_compliance_inbox(officer, auditor):
    account = make_account(officer)
    post(INBOUND, inbound(account.borrower.phone, "收到"))
    reply = InboundReply.objects.get()
    assert signed_in(auditor).post(f"/inbox/compliance/{reply.pk}/read/").status_code == 404
    assert signed_in(auditor).get("/inbox/compliance/").context["page"].replies == []


def test_the_compliance_inbox_pages_by_id_and_refuses_a_bad_cursor(auditor):
    for n in range(3):
        InboundReply.objects.create(
            phone=f"+861370000{n:04d}", text=str(n), received_at=timezone.now(), matched_borrowers=0, compliance=True
        )
    client = signed_in(auditor)
    newest = list(InboundReply.objects.order_by("-pk").values_list("pk", flat=True))
    assert [r.pk for r in client.get(f"/inbox/compliance/?before={newest[0]}").context["page"].replies] == newest[1:]
    for bad in ("x", "0", str(2**63), "-5"):
        assert client.get(f"/inbox/compliance/?before={bad}").status_code == 400


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x" * 2001])
def test_an_inbound_text_that_cannot_be_stored_is_400_and_changes_nothing(text):
    account = make_account()
    assert post(INBOUND, inbound(account.borrower.phone, text)).status_code == 400
    assert not InboundReply.objects.exists()


def test_the_database_refuses_a_compliance_reply_with_a_borrower_and_a_half_read_one():
    borrower = make_borrower()
    base = {"phone": borrower.phone, "text": "x", "received_at": timezone.now()}
    with pytest.raises(IntegrityError), transaction.atomic():
        InboundReply.objects.create(**base, borrower=borrower, matched_borrowers=1, compliance=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        InboundReply.objects.create(**base, matched_borrowers=1, compliance=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        InboundReply.objects.create(**base, matched_borrowers=0, compliance=True, read_at=timezone.now())
