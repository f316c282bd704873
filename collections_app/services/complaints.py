"""Writes of the complaint register: an officer files a complaint and moves it to its resolution, each audited.

A contact's complaint about being contacted also opts that number out, through the one opt-out service, in the
same transaction. Audit events keep ids, the channel, category and status: never the complainant's words.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.roles import CASE_OFFICER
from audit.record import audit_record, person_key
from collections_app.messaging.consent import phone_opt_out_record
from collections_app.models import Complaint, Contact, LoanAccount
from collections_app.selectors.profiles import policy_version_for_account

# The one way through the register: each status and the one it moves to next.
NEXT_STATUS = {
    Complaint.Status.OPEN: Complaint.Status.IN_PROGRESS,
    Complaint.Status.IN_PROGRESS: Complaint.Status.RESOLVED,
    Complaint.Status.RESOLVED: Complaint.Status.CLOSED,
}


def complaint_file(
    *,
    account: LoanAccount,
    officer: AbstractBaseUser,
    complainant: str,
    channel: str,
    category: str,
    text: str,
    now: datetime.datetime | None = None,
) -> Complaint:
    """File a complaint about `account` from its borrower (`borrower`) or a contact of theirs (`contact:<id>`).

    The filing officer owns it; its deadline is the profile's days from filing. A contact's `unwanted_contact`
    complaint opts that contact's number out, as an inbound opt-out does.
    """
    now = now or timezone.now()
    contact = _complainant_contact(account, complainant)
    days = policy_version_for_account(account, at=now).complaint_deadline_days
    complaint = Complaint(
        account=account,
        contact=contact,
        channel=channel,
        category=category,
        text=text.strip(),
        owner=officer,
        filed_by=officer,
        filed_at=now,
        deadline=now + datetime.timedelta(days=days),
    )
    complaint.full_clean()
    with transaction.atomic():
        complaint.save()
        _audit(complaint, officer)
        if contact is not None and category == Complaint.Category.UNWANTED_CONTACT:
            phone_opt_out_record(phone=contact.phone, actor=officer, received_at=now)
    return complaint


def complaint_advance(
    *, complaint: Complaint, officer: AbstractBaseUser, resolution: str = "", now: datetime.datetime | None = None
) -> Complaint:
    """Move a complaint one step: open → in progress → resolved (with its resolution) → closed."""
    now = now or timezone.now()
    resolution = resolution.strip()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        status = NEXT_STATUS.get(locked.status)
        if status is None:
            raise ValidationError(_("This complaint is closed."))
        if status == Complaint.Status.RESOLVED:
            if not resolution:
                raise ValidationError({"resolution": _("Write the resolution given to the complainant.")})
            locked.resolution, locked.resolved_at = resolution, now
        if status == Complaint.Status.CLOSED:
            locked.closed_at = now
        locked.status = status
        locked.full_clean()
        locked.save(update_fields=["status", "resolution", "resolved_at", "closed_at"])
        _audit(locked, officer)
    return locked


def _complainant_contact(account: LoanAccount, complainant: str) -> Contact | None:
    """The contact named by `contact:<id>` among the borrower's contacts; None for `borrower`."""
    if complainant == "borrower":
        return None
    kind, _sep, pk = complainant.partition(":")
    contact = None
    if kind == "contact" and pk.isdigit():
        contact = account.borrower.contacts.filter(pk=int(pk)).first()
    if contact is None:
        raise ValidationError({"complainant": _("Choose the borrower or one of their contacts.")})
    return contact


def _audit(complaint: Complaint, officer: AbstractBaseUser) -> None:
    persons = [person_key("borrower", complaint.account.borrower_id)]
    if complaint.contact_id is not None:
        persons.append(person_key("contact", complaint.contact_id))
    audit_record(
        action=f"complaint_{complaint.status}",
        actor=officer,
        role=CASE_OFFICER,
        object_type="complaint",
        object_id=complaint.pk,
        persons=persons,
        detail={
            "account_id": complaint.account_id,
            "complainant": "borrower" if complaint.contact_id is None else "contact",
            "channel": complaint.channel,
            "category": complaint.category,
            "deadline": complaint.deadline.isoformat(),
        },
    )
