"""Reads of messages and stops, always through the user's caseload."""

from django.contrib.auth.models import AbstractBaseUser

from collections_app.models import ChannelStop, LoanAccount, Message, PhoneOptOut
from collections_app.selectors.accounts import loan_account_get_for_user


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
    opted_out = PhoneOptOut.objects.filter(phone__in=contact_phones).values_list("phone", flat=True)
    return {
        "stopped_channels": sorted(ChannelStop.objects.filter(borrower=borrower).values_list("channel", flat=True)),
        "cease_requested_at": borrower.cease_requested_at,
        "opted_out_contact_ids": sorted(contact_phones[phone] for phone in opted_out),
    }
