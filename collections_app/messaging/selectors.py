"""Reads of messages, stops and inbound replies: through the user's caseload, or for a compliance auditor."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404

from audit.permissions import user_can_audit
from collections_app.messaging.opt_outs import phones_opted_out
from collections_app.models import ChannelStop, InboundReply, LoanAccount, Message
from collections_app.selectors.accounts import HISTORY_LIMIT, loan_account_get_for_user

COMPLIANCE_PAGE_SIZE = 50


def message_list_for_account(*, user: AbstractBaseUser, account_id: int | str, limit: int = 50) -> list[Message]:
    """The newest messages of the borrower of one account in the user's caseload (Http404 outside it)."""
    account = loan_account_get_for_user(user, account_id)
    return list(
        Message.objects.filter(borrower_id=account.borrower_id)
        .select_related("template_version__template", "policy_version__profile")
        .order_by("-created_at", "-pk")[:limit]
    )


def communication_state_for_account(*, account: LoanAccount) -> dict[str, object]:
    """What is stopped for the account's borrower: stopped channels, cease request, opted-out contact ids.

    The account must come from a scoped selector (`loan_account_get_for_user`).
    """
    borrower = account.borrower
    contact_phones = dict(borrower.contacts.values_list("phone", "pk"))
    opted_out = phones_opted_out(contact_phones)
    return {
        "stopped_channels": sorted(ChannelStop.objects.filter(borrower=borrower).values_list("channel", flat=True)),
        "cease_requested_at": borrower.cease_requested_at,
        "opted_out_contact_ids": sorted(contact_phones[phone] for phone in opted_out),
    }


def inbound_replies_for_account(*, account: LoanAccount, limit: int = HISTORY_LIMIT) -> list[InboundReply]:
    """The replies from the account's borrower and their contacts, unread first, then newest first.

    The account must come from a scoped selector (`loan_account_get_for_user`).
    """
    return list(
        InboundReply.objects.filter(borrower_id=account.borrower_id)
        .select_related("contact", "read_by")
        .order_by(F("read_at").asc(nulls_first=True), "-received_at", "-pk")[:limit]
    )


def inbound_reply_get_for_account(*, account: LoanAccount, reply_id: int) -> InboundReply:
    """One reply of the account's inbox; Http404 for any other reply id."""
    return get_object_or_404(InboundReply.objects.filter(borrower_id=account.borrower_id), pk=reply_id)


@dataclass(frozen=True)
class ReplyPage:
    """One keyset page of the compliance inbox, newest first; `next_before` is the following page's cursor."""

    replies: list[InboundReply]
    next_before: int | None


def _require_auditor(user: AbstractBaseUser | AnonymousUser) -> None:
    if not user_can_audit(user):
        raise PermissionDenied


def compliance_inbox_page(
    *, user: AbstractBaseUser | AnonymousUser, before: int | None = None, size: int = COMPLIANCE_PAGE_SIZE
) -> ReplyPage:
    """Replies from numbers that match no borrower or several, for a compliance auditor; newest first, by id."""
    _require_auditor(user)
    queryset = InboundReply.objects.filter(compliance=True).select_related("read_by")
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    replies = list(queryset.order_by("-pk")[: size + 1])
    if len(replies) > size:
        return ReplyPage(replies[:size], replies[size - 1].pk)
    return ReplyPage(replies, None)


def compliance_reply_get(*, user: AbstractBaseUser | AnonymousUser, reply_id: int) -> InboundReply:
    """One reply of the compliance inbox, for a compliance auditor; Http404 for any other reply id."""
    _require_auditor(user)
    return get_object_or_404(InboundReply.objects.filter(compliance=True), pk=reply_id)
