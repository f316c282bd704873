"""A pending access request from a contact on one of officer1's accounts, filed through the service a few days ago,
so that the compliance auditor finds a data-subject request to decide on first sign-in."""

import datetime

from django.contrib.auth.models import User

from access.roles import CASE_OFFICER
from collections_app.models import Contact, DataSubjectRequest
from collections_app.services.privacy import privacy_request_file

REQUEST_OFFICER = "officer1"


def seed_privacy_demo(*, users: dict[str, User], now: datetime.datetime) -> int:
    """File the demo access request when officer1 has filed none; the number filed (0 on a later seed)."""
    officer = users[REQUEST_OFFICER]
    if DataSubjectRequest.objects.filter(filed_by=officer).exists():
        return 0
    # Not the family-contact demo's own accounts (DEMO-...): their story stays as that demo tells it.
    contact = (
        Contact.objects.filter(borrower__accounts__officer=officer)
        .exclude(borrower__accounts__account_number__startswith="DEMO-")
        .order_by("borrower__accounts__account_number", "pk")
        .first()
    )
    if contact is None:
        return 0
    privacy_request_file(
        account=contact.borrower.accounts.filter(officer=officer).order_by("account_number").first(),
        actor=officer,
        role=CASE_OFFICER,
        subject=f"contact:{contact.pk}",
        kind=DataSubjectRequest.Kind.ACCESS,
        text="来电人称是借款人的紧急联系人，想知道贵公司为什么有她的电话号码、保存了她哪些信息，要求提供一份副本。",
        now=now - datetime.timedelta(days=3),
    )
    return 1
