"""Inbound SMS: the one opt-out matcher, and the replies kept for an officer or for compliance.

A reply is normalised before it is matched (NFKC, case folded, whitespace, punctuation, symbols and invisible
characters dropped), so "Stop.", "ＴＤ", "TD退订" and "回复 退订" read as the keywords they are. An opt-out
goes through `consent` as before. Every other reply is stored (`InboundReply`) with an `inbound_reply`
audit event: for the accounts of the one borrower its number matches, or, when it matches no one or several
borrowers, for the compliance inbox. Nothing the gateway hands over is thrown away.
"""

import datetime
import re
import unicodedata

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.record import audit_record, person_key
from collections_app.messaging.consent import channel_stop_record, phone_opt_out_record
from collections_app.messaging.opt_outs import phone_erased
from collections_app.models import Borrower, Contact, InboundReply, Message, PhoneOptOut

# Unicode categories that carry no word: punctuation (P), symbols and emoji (S), separators (Z), and
# controls, format characters such as zero-width spaces, and unassigned code points (C).
_NOT_WORD_CATEGORIES = frozenset("PSZC")

# What a reply may say around a keyword ("回复TD退订", "请退订", "stop please").
_FILLER = r"(?:回复|回|请|我要|please|pls)"
# The opt-out words, normalised: the carriers' standard English keywords (CTIA: STOP, STOPALL, UNSUBSCRIBE,
# CANCEL, END, QUIT; the FCC's 2024 list adds REVOKE and OPT OUT), our own "回复TD退订", and the Chinese ways
# of saying "unsubscribe", "refuse" and "do not send again".
_WORD = (
    r"(?:stopall|stop|unsubscribe|unsub|cancel|end|quit|revoke|optout|td"
    r"|退订|退定|取消订阅|取消|拒收"
    r"|(?:请勿|请不要|不要|别|勿)再?(?:给我)?(?:发送|发)(?:短信|信息|消息)?了?)"
)
# Chinese senders' one-letter replies ("回T退订", "拒收请回复R"), recognised only as the reply's one keyword.
_LETTER = r"[tr]"
_OPT_OUT = re.compile(rf"{_FILLER}*(?:{_LETTER}|{_WORD})(?:{_FILLER}|{_WORD})*")


def normalise_reply(text: str) -> str:
    """The reply as the matcher reads it: NFKC, case folded, with no whitespace, punctuation or invisible marks."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(char for char in folded if unicodedata.category(char)[0] not in _NOT_WORD_CATEGORIES)


def is_opt_out_keyword(text: str) -> bool:
    """Whether an inbound SMS is an opt-out: nothing but opt-out words and fillers, once normalised."""
    return _OPT_OUT.fullmatch(normalise_reply(text)) is not None


def _opt_out_take(*, phone: str, received_at: datetime.datetime) -> str:
    """A borrower's number stops SMS for that borrower; any other number is opted out of family contact."""
    done = []
    borrowers = list(Borrower.objects.filter(phone=phone))
    for borrower in borrowers:
        channel_stop_record(
            borrower=borrower, channel=Message.Channel.SMS, source=PhoneOptOut.Source.SMS_REPLY, received_at=received_at
        )
        done.append("channel_stopped")
    # A number that is not a borrower's can only have been written to as a family contact: opt it out.
    held_by_contact = Contact.objects.filter(phone=phone).exists()
    if held_by_contact or not borrowers:
        if not held_by_contact and not borrowers and phone_erased(phone):
            # Erased at its owner's request: its opt-out holds through the HMAC, and the number is not stored again.
            done.append("opt_out_held")
        else:
            phone_opt_out_record(phone=phone, source=PhoneOptOut.Source.SMS_REPLY, received_at=received_at)
            done.append("opt_out")
    return ",".join(done)


def inbound_reply_record(*, phone: str, text: str, received_at: datetime.datetime) -> InboundReply:
    """Store a reply that is no opt-out, routed by whom its number matches, with its `inbound_reply` event."""
    with transaction.atomic():
        own = set(Borrower.objects.filter(phone=phone).values_list("pk", flat=True))
        contacts = list(Contact.objects.filter(phone=phone).values_list("pk", "borrower_id"))
        borrowers = own | {borrower_id for _, borrower_id in contacts}
        persons = sorted(
            [person_key("borrower", pk) for pk in borrowers] + [person_key("contact", pk) for pk, _ in contacts]
        )
        borrower_id = next(iter(borrowers)) if len(borrowers) == 1 else None
        # A contact wrote when the number is not the borrower's own (a borrower has one contact per number).
        contact_id = contacts[0][0] if borrower_id is not None and not own else None
        reply = InboundReply(
            phone=phone,
            text=text,
            received_at=received_at,
            borrower_id=borrower_id,
            contact_id=contact_id,
            matched_borrowers=len(borrowers),
            compliance=borrower_id is None,
            persons=persons,
        )
        reply.full_clean()
        reply.save()
        audit_record(
            action="inbound_reply",
            object_type="inboundreply",
            object_id=reply.pk,
            persons=persons,
            # Ids and counts only: the number and the text stay on the reply.
            detail={
                "compliance": reply.compliance,
                "matched_borrowers": reply.matched_borrowers,
                "from": "contact" if contact_id else ("borrower" if borrower_id else "unmatched"),
            },
        )
    return reply


def inbound_sms_take(*, phone: str, text: str, received_at: datetime.datetime) -> str:
    """Act on an inbound SMS: an opt-out stops or opts out the number; anything else is kept as a reply.

    Returns what was done (for the log).
    """
    with transaction.atomic():
        if is_opt_out_keyword(text):
            return _opt_out_take(phone=phone, received_at=received_at)
        reply = inbound_reply_record(phone=phone, text=text, received_at=received_at)
    return "compliance_inbox" if reply.compliance else "account_inbox"


def inbound_reply_mark_read(*, reply: InboundReply, actor: AbstractBaseUser, role: str) -> InboundReply:
    """Mark a reply read by `actor` (once; marking it again changes nothing). The caller has scoped the reply."""
    with transaction.atomic():
        moment = timezone.now()
        updated = InboundReply.objects.filter(pk=reply.pk, read_at__isnull=True).update(read_at=moment, read_by=actor)
        if updated:
            reply.read_at, reply.read_by = moment, actor
            audit_record(
                action="update",
                actor=actor,
                role=role,
                object_type="inboundreply",
                object_id=reply.pk,
                persons=reply.persons,
                fields=["read_at"],
            )
    return reply
