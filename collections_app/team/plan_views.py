"""Repayment plans from the browser: the officer proposes (or withdraws) on the account, the team lead decides.

Outcomes as CONTRACT.md sets them: a taken POST redirects (303), invalid input answers 200 with the errors and
writes nothing, the proposer deciding their own plan answers 403, a plan already decided answers 409.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.roles import CASE_OFFICER, TEAM_LEAD, role_required
from audit.record import audit_record, person_key
from collections_app.dpd import lender_today
from collections_app.models import RepaymentPlan
from collections_app.officer_scope import in_officer_scope, officer_account
from collections_app.selectors.accounts import get_or_404
from collections_app.services.plans import (
    PlanConflict,
    ProposerCannotDecide,
    repayment_plan_decide,
    repayment_plan_propose,
    repayment_plan_withdraw,
)
from collections_app.team.forms import (
    InstalmentFormSet,
    PlanDecisionForm,
    PlanProposalForm,
    PlanWithdrawForm,
    proposed_instalments,
)
from collections_app.team.scope import team_plan_get_for_lead
from collections_app.team.views import in_team_scope
from collections_app.view_helpers import add_service_errors, redirect_303

PLAN_PAGE_FIELDS = ("borrower.name",)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest, account_id: int) -> HttpResponse:
    """Propose a repayment plan (instalments or an extension) for the team lead's decision."""
    account = officer_account(request, account_id)
    posted = request.POST if request.method == "POST" else None
    form = PlanProposalForm(posted)
    instalments = InstalmentFormSet(posted, prefix="instalments")
    if posted is not None and form.is_valid() and instalments.is_valid():
        try:
            repayment_plan_propose(
                account=account,
                officer=request.user,
                kind=form.cleaned_data["kind"],
                instalments=proposed_instalments(instalments),
                difference_reason=form.cleaned_data["difference_reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Plan proposed: your team lead decides it."))
            return redirect_303(account.get_absolute_url())
    context = {"account": account, "form": form, "instalments": instalments, "today": lender_today()}
    return render(request, "collections_app/plan_form.html", context)


@role_required(CASE_OFFICER)
@require_POST
def plan_withdraw(request: HttpRequest, account_id: int, plan_id: int) -> HttpResponse:
    """Withdraw a proposal of this account that awaits its decision; once decided, the page says so."""
    account = officer_account(request, account_id)
    plan = in_officer_scope(
        request, account_id, lambda: get_or_404(RepaymentPlan.objects.filter(account=account), plan_id, "plan")
    )
    form = PlanWithdrawForm(request.POST)
    if form.is_valid():
        try:
            repayment_plan_withdraw(plan=plan, officer=request.user, reason=form.cleaned_data["reason"])
        except PlanConflict as conflict:
            status = conflict.plan.get_status_display()
            messages.error(request, _("The plan was decided already: it is %(status)s.") % {"status": status})
        else:
            messages.success(request, _("Plan withdrawn."))
    else:
        messages.error(request, _("Give a reason to withdraw the plan."))
    return redirect_303(account.get_absolute_url())


def _plan_page(request: HttpRequest, plan: RepaymentPlan, form: PlanDecisionForm, status: int = 200) -> HttpResponse:
    """The plan with its account (masked), instalments and the decision form; audited as a view."""
    audit_record(
        action="view",
        actor=request.user,
        role=TEAM_LEAD,
        object_type="repaymentplan",
        object_id=plan.pk,
        persons=[person_key("borrower", plan.account.borrower_id)],
        fields=PLAN_PAGE_FIELDS,
    )
    instalments = list(plan.instalments.order_by("due_date", "pk"))
    context = {
        "plan": plan,
        "account": plan.account,
        "instalments": instalments,
        "total": sum(instalment.amount for instalment in instalments),
        "form": form,
        "may_decide": plan.status == RepaymentPlan.Status.PROPOSED and plan.created_by_id != request.user.pk,
    }
    return render(request, "collections_app/team/plan_detail.html", context, status=status)


@role_required(TEAM_LEAD)
@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    """One plan of the team, with the decision form while it awaits one."""
    plan = in_team_scope(request, "repaymentplan", plan_id, lambda: team_plan_get_for_lead(request.user, plan_id))
    return _plan_page(request, plan, PlanDecisionForm())


@role_required(TEAM_LEAD)
@require_POST
def plan_decide(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Approve or reject with a reason: 403 for the proposer, 409 once decided, 200 with errors for bad input."""
    plan = in_team_scope(request, "repaymentplan", plan_id, lambda: team_plan_get_for_lead(request.user, plan_id))
    form = PlanDecisionForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, plan, form)
    try:
        decided = repayment_plan_decide(
            plan=plan, lead=request.user, decision=form.cleaned_data["decision"], reason=form.cleaned_data["reason"]
        )
    except ProposerCannotDecide:
        audit_record(
            action="permission_denied",
            actor=request.user,
            role=TEAM_LEAD,
            object_type="repaymentplan",
            object_id=plan.pk,
            outcome="denied",
            detail={"path": request.path[:200], "rule": "proposer_decides"},
        )
        raise
    except PlanConflict as conflict:
        messages.error(
            request,
            _("The plan was decided already: it is %(status)s.") % {"status": conflict.plan.get_status_display()},
        )
        return _plan_page(request, conflict.plan, PlanDecisionForm(), status=409)
    except ValidationError as error:
        add_service_errors(form, error)
        return _plan_page(request, plan, form)
    if decided.status == RepaymentPlan.Status.APPROVED:
        messages.success(request, _("Plan approved: the reminders pause while it is kept."))
    else:
        messages.success(request, _("Plan rejected."))
    return redirect_303(reverse("team:dashboard"))
