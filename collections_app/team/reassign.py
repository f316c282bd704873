"""Reassignment by the team lead: accounts of the team move to another officer of the team, audited.

The move itself is `account_assign`, the one place that hands an account over (its object permission, its
open call tasks; its requests and plans follow the account). This module adds the lead's rules: the target is
a case officer of the lead's team, the accounts are the team's, and one reassignment moves a bounded number.
"""

from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from access.roles import CASE_OFFICER, TEAM_LEAD, user_has_role
from collections_app.models import LoanAccount
from collections_app.services.accounts import account_assign
from collections_app.team.scope import team_accounts_for_lead, team_officers_for_lead

# One reassignment moves at most this many accounts (a whole caseload of the benchmark's officers).
REASSIGN_MAX = 5000


def team_accounts_reassign(*, lead: AbstractBaseUser, accounts: QuerySet[LoanAccount], officer: User) -> int:
    """Move `accounts` (of the lead's team) to `officer` (of the lead's team); returns how many changed hands."""
    if not team_officers_for_lead(lead).filter(pk=officer.pk).exists() or not user_has_role(officer, CASE_OFFICER):
        raise ValidationError({"officer": _("Choose a case officer of your team.")})
    scoped = team_accounts_for_lead(lead).filter(pk__in=accounts.values("pk"))
    ids = list(scoped.order_by("pk").values_list("pk", flat=True)[: REASSIGN_MAX + 1])
    if not ids:
        raise ValidationError({"accounts": _("Choose at least one account of your team.")})
    if len(ids) > REASSIGN_MAX:
        raise ValidationError(
            {"accounts": _("At most %(max)d accounts can be reassigned at once.") % {"max": REASSIGN_MAX}}
        )
    return account_assign(accounts=[LoanAccount(pk=pk) for pk in ids], officer=officer, actor=lead, role=TEAM_LEAD)
