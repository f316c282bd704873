"""The team lead's scope: the officers of the teams they lead, and those officers' accounts; 404 outside it.

A lead sees an account because its officer is a member of a team the lead leads (access.models.Team), so
reassigning the account out of the team takes it out of the lead's scope at once. The account query is a
`officer_id IN (subquery on the team membership table)`, which the (officer, due date) index answers.
"""

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404

from access.models import Team
from collections_app.models import LoanAccount, RepaymentPlan
from collections_app.selectors.accounts import User as AnyUser
from collections_app.selectors.accounts import get_or_404


def _member_ids(lead: AnyUser) -> QuerySet:
    """The ids of the members of every team `lead` leads (a subquery)."""
    return Team.members.through.objects.filter(team__lead_id=lead.pk).values("user_id")


def team_officers_for_lead(lead: AnyUser) -> QuerySet[User]:
    """The officers in the lead's teams, by username; none for an anonymous or inactive user."""
    if not lead.is_authenticated or not lead.is_active:
        return User.objects.none()
    return User.objects.filter(pk__in=_member_ids(lead)).order_by("username")


def team_officer_get(lead: AnyUser, username: str) -> User:
    """One officer of the lead's teams by username; Http404 for anyone else."""
    officer = team_officers_for_lead(lead).filter(username=username).first()
    if officer is None:
        raise Http404("No such officer in your team.")
    return officer


def team_accounts_for_lead(lead: AnyUser) -> QuerySet[LoanAccount]:
    """The accounts of the officers in the lead's teams."""
    if not lead.is_authenticated or not lead.is_active:
        return LoanAccount.objects.none()
    return LoanAccount.objects.filter(officer_id__in=_member_ids(lead))


def team_account_get_for_lead(lead: AnyUser, account_id: int | str) -> LoanAccount:
    """One account of the lead's team, with its borrower and portfolio; Http404 outside the team."""
    return get_or_404(team_accounts_for_lead(lead).select_related("borrower", "portfolio", "officer"), account_id)


def team_plans_for_lead(lead: AnyUser) -> QuerySet[RepaymentPlan]:
    """The repayment plans of the team's accounts (the plan follows its account's officer)."""
    return RepaymentPlan.objects.filter(account__in=team_accounts_for_lead(lead))


def team_plan_get_for_lead(lead: AnyUser, plan_id: int | str) -> RepaymentPlan:
    """One plan on an account of the lead's team, with its account, borrower and proposer; Http404 outside it."""
    plans = team_plans_for_lead(lead).select_related(
        "account__borrower", "account__portfolio", "account__officer", "created_by", "decided_by"
    )
    return get_or_404(plans, plan_id, "plan")
