"""Review's part of the officer's caseload and account page: the family-contact requests of each account.

Named in the ACCOUNT_PAGE_PANELS setting and loaded by collections_app.panels, so that collections_app never
imports review.
"""

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from collections_app.models import LoanAccount
from collections_app.panels import User
from review.models import FamilyContactRequest
from review.selectors import family_contact_latest_by_account, family_contact_requests_for_account


class FamilyContactPanel:
    """The caseload's "Family-contact request" column and the account page's "Family-contact requests" section."""

    caseload_heading = _("Family-contact request")
    caseload_cell_template = "review/_caseload_family_contact.html"
    account_section_template = "review/_account_family_contact.html"

    def caseload_values(self, user: User, account_ids: Sequence[int]) -> dict[int, FamilyContactRequest]:
        """The newest request of each listed account the user works, in one query."""
        return family_contact_latest_by_account(user, account_ids)

    def account_section_context(self, user: User, account: LoanAccount) -> dict[str, Any]:
        """The account's requests, newest first (run once, by the template)."""
        return {"requests": family_contact_requests_for_account(user, account)}
