"""Pages of family-contact requests (the officer's filing and request pages, the approver's queue and decision)
and the risk approver's template approval and policy proposals."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.roles import CASE_OFFICER, RISK_APPROVER, role_required, user_has_role
from audit.permissions import access_required
from audit.record import AuditWriteError, audit_record, person_key
from audit.responses import audit_unavailable_response
from collections_app.dpd import BUCKETS, bucket_for, days_past_due, lender_today
from collections_app.messaging.message_templates import TemplateDecisionConflict, template_version_decide
from collections_app.selectors.accounts import loan_account_get_for_user
from collections_app.view_helpers import add_service_errors, redirect_303
from review.forms import DecisionForm, FamilyContactRequestForm, PolicyProposalForm, QueueFilterForm
from review.models import FamilyContactRequest
from review.policy_proposal_review import (
    policy_proposal_dry_run,
    policy_proposal_get_for_decision,
    policy_proposals_decided,
    policy_proposals_pending,
)
from review.policy_proposals import (
    PolicyDecisionConflict,
    policy_change_file,
    policy_proposal_decide,
    policy_proposal_may_file,
    policy_switch_file,
)
from review.selectors import (
    account_summary,
    approver_portfolio_ids,
    eligibility_evaluate,
    family_contact_request_get_for_officer,
    queue_filter_choices,
    review_queue,
    review_request_get_for_user,
    template_current_version,
)
from review.services import (
    DecisionConflict,
    IneligibleError,
    family_contact_request_decide,
    family_contact_request_submit,
    family_contact_request_withdraw,
)
from review.template_review import template_reviews_for_user, template_version_get_for_review

# Fields each page shows (masked), recorded with its audit event.
FILING_FIELDS = ("contact.relationship", "contact.name", "contact.phone", "message.body")
OFFICER_REQUEST_FIELDS = ("contact.relationship", "contact.name", "contact.phone", "message.body")
QUEUE_FIELDS = ("account.account_number", "contact.relationship")
REVIEW_FIELDS = (
    "borrower.name",
    "borrower.phone",
    "account.account_number",
    "contact.relationship",
    "contact.name",
    "contact.phone",
    "message.body",
)


def _audit_fail_closed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """If the audit event cannot be written, show no personal data: answer 503 instead."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except AuditWriteError:
            return audit_unavailable_response(request)

    return wrapped


def _scoped(request: HttpRequest, role: str, object_type: str, object_id: Any, load: Callable[[], Any]) -> Any:
    """Run a scoped read; a 404 is audited as a denied access."""
    try:
        return load()
    except Http404:
        audit_record(
            action="permission_denied",
            actor=request.user,
            role=role,
            object_type=object_type,
            object_id=object_id,
            outcome="not_found",
            detail={"path": request.path[:200]},
        )
        raise


# --- the officer --------------------------------------------------------------------------------------------------


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
@_audit_fail_closed
def request_new(request: HttpRequest, account_id: int) -> HttpResponse:
    """File a request; `preview=1` shows the rule-by-rule check and the exact message without filing."""
    account = _scoped(
        request, CASE_OFFICER, "loanaccount", account_id, lambda: loan_account_get_for_user(request.user, account_id)
    )
    form = FamilyContactRequestForm(request.POST or None, account=account)
    evaluation = preview = None
    status = 200
    if request.method == "POST" and form.is_valid():
        contact = form.cleaned_data["contact"]
        template = form.cleaned_data["template"]
        if request.POST.get("preview"):
            version = template_current_version(template)
            evaluation, preview, _version = eligibility_evaluate(
                account=account, contact=contact, template_version=version
            )
        else:
            try:
                filed = family_contact_request_submit(
                    account=account,
                    contact=contact,
                    template=template,
                    justification=form.cleaned_data["justification"],
                    requested_by=request.user,
                )
            except IneligibleError as exc:
                evaluation, preview = exc.evaluation, exc.preview
                form.add_error(
                    None, _("The request cannot be filed: %(why)s") % {"why": exc.evaluation.failure_summary()}
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Request filed; it now waits for a risk approver."))
                return redirect(filed.get_absolute_url())
    contact_ids = [contact.pk for contact in form.fields["contact"].queryset]
    audit_record(
        action="view",
        actor=request.user,
        role=CASE_OFFICER,
        object_type="loanaccount",
        object_id=account.pk,
        persons=[person_key("borrower", account.borrower_id), *(person_key("contact", pk) for pk in contact_ids)],
        fields=FILING_FIELDS,
        detail={"page": "family_contact_new", "checked": evaluation is not None},
    )
    dpd = days_past_due(account.oldest_unpaid_due_date, lender_today())
    context = {"account": account, "form": form, "evaluation": evaluation, "preview": preview, "dpd": dpd}
    return render(request, "review/familycontactrequest_form.html", context, status=status)


def _officer_detail(request: HttpRequest, account_id: int, request_id: int, *, status: int = 200) -> HttpResponse:
    fcr = _scoped(
        request,
        CASE_OFFICER,
        "familycontactrequest",
        request_id,
        lambda: family_contact_request_get_for_officer(request.user, account_id, request_id),
    )
    audit_record(
        action="view",
        actor=request.user,
        role=CASE_OFFICER,
        object_type="familycontactrequest",
        object_id=fcr.pk,
        persons=[person_key("borrower", fcr.account.borrower_id), person_key("contact", fcr.contact_id)],
        fields=OFFICER_REQUEST_FIELDS,
    )
    return render(
        request, "review/familycontactrequest_detail.html", {"fcr": fcr, "account": fcr.account}, status=status
    )


@role_required(CASE_OFFICER)
@require_GET
@_audit_fail_closed
def request_detail(request: HttpRequest, account_id: int, request_id: int) -> HttpResponse:
    """The officer's view of a request: its state, the decision and its reason."""
    return _officer_detail(request, account_id, request_id)


@role_required(CASE_OFFICER)
@require_POST
@_audit_fail_closed
def request_withdraw(request: HttpRequest, account_id: int, request_id: int) -> HttpResponse:
    """Withdraw an undecided request; 409 once it has been decided."""
    fcr = _scoped(
        request,
        CASE_OFFICER,
        "familycontactrequest",
        request_id,
        lambda: family_contact_request_get_for_officer(request.user, account_id, request_id),
    )
    try:
        family_contact_request_withdraw(request=fcr, actor=request.user)
    except DecisionConflict:
        messages.error(request, _("The request has already been decided; it can no longer be withdrawn."))
        return _officer_detail(request, account_id, request_id, status=409)
    messages.success(request, _("Request withdrawn."))
    return redirect(fcr.get_absolute_url())


# --- the approver -------------------------------------------------------------------------------------------------


@role_required(RISK_APPROVER)
@require_GET
@_audit_fail_closed
def queue(request: HttpRequest) -> HttpResponse:
    """Submitted requests in the approver's portfolios, oldest first, with counts and filters."""
    filter_form = QueueFilterForm(request.GET)
    data = review_queue(request.user, filter_form.filters(), page_number=request.GET.get("page") or 1)
    rows = list(data.page.object_list)
    for row in rows:
        row.waiting = data.now - row.requested_at
        row.overdue = row.waiting.total_seconds() > data.overdue_hours * 3600
        row.bucket = bucket_for(row.dpd)
        row.own = row.requested_by_id == request.user.pk
    audit_record(
        action="list",
        actor=request.user,
        role=RISK_APPROVER,
        object_type="familycontactrequest",
        persons=sorted(
            {person_key("borrower", row.account.borrower_id) for row in rows}
            | {person_key("contact", row.contact_id) for row in rows}
        ),
        fields=QUEUE_FIELDS,
        detail={"filters": {k: v for k, v in vars(filter_form.filters()).items() if v}, "page": data.page.number},
    )
    context = {
        "data": data,
        "rows": rows,
        "filter_form": filter_form,
        "buckets": BUCKETS,
        "choices": queue_filter_choices(request.user),
        # Scope fails closed: say why the queue is empty for an approver who holds no grant at all.
        "no_grant": approver_portfolio_ids(request.user) == [],
    }
    return render(request, "review/queue.html", context)


def _review_page(
    request: HttpRequest, request_id: int, *, form: DecisionForm | None = None, status: int = 200
) -> HttpResponse:
    fcr = _scoped(
        request,
        RISK_APPROVER,
        "familycontactrequest",
        request_id,
        lambda: review_request_get_for_user(request.user, request_id),
    )
    account = fcr.account
    now = timezone.now()
    evaluation_now = preview = None
    if fcr.status == FamilyContactRequest.Status.SUBMITTED:
        evaluation_now, preview, _version = eligibility_evaluate(
            account=account,
            contact=fcr.contact,
            template_version=fcr.template_version,
            now=now,
            exclude_request_id=fcr.pk,
        )
    audit_record(
        action="view",
        actor=request.user,
        role=RISK_APPROVER,
        object_type="familycontactrequest",
        object_id=fcr.pk,
        persons=[person_key("borrower", account.borrower_id), person_key("contact", fcr.contact_id)],
        fields=REVIEW_FIELDS,
    )
    dpd = days_past_due(account.oldest_unpaid_due_date, lender_today(now))
    context = {
        "fcr": fcr,
        "account": account,
        "dpd": dpd,
        "bucket": bucket_for(dpd),
        "summary": account_summary(account, now=now),
        "evaluation_now": evaluation_now.as_json() if evaluation_now else None,
        "preview": preview,
        "own_request": fcr.requested_by_id == request.user.pk,
        "form": form or DecisionForm(),
        "waiting": now - fcr.requested_at,
    }
    return render(request, "review/review_detail.html", context, status=status)


@role_required(RISK_APPROVER)
@require_GET
@_audit_fail_closed
def review_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    """One request with the masked case context, both evaluations, the message preview and the decision form."""
    return _review_page(request, request_id)


@role_required(RISK_APPROVER)
@require_POST
@_audit_fail_closed
def review_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    """Take a decision: 403 for the requester, 409 when another decision won, 200 with errors for bad input."""
    fcr = _scoped(
        request,
        RISK_APPROVER,
        "familycontactrequest",
        request_id,
        lambda: review_request_get_for_user(request.user, request_id),
    )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _review_page(request, request_id, form=form)
    try:
        outcome = family_contact_request_decide(
            request_id=fcr.pk,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except DecisionConflict as exc:
        messages.error(
            request,
            _("Another decision was taken first: the request is %(status)s.")
            % {"status": exc.request.get_status_display()},
        )
        return _review_page(request, request_id, status=409)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _review_page(request, request_id, form=form)
    if not outcome.decided:
        messages.error(
            request,
            _("The request no longer meets the rules and was cancelled: %(why)s")
            % {"why": outcome.request.status_reason},
        )
        return redirect(reverse("review:detail", args=[fcr.pk]))
    if outcome.request.status == FamilyContactRequest.Status.APPROVED:
        messages.success(request, _("Approved: the message is queued."))
    else:
        messages.success(request, _("Rejected."))
    return redirect(reverse("review:queue"))


# --- template approval --------------------------------------------------------------------------------------------


def _template_page(
    request: HttpRequest, *, form_for: int | None = None, form: DecisionForm | None = None, status: int = 200
) -> HttpResponse:
    """The family template versions awaiting approval; `form` (with its errors) goes with version `form_for`."""
    reviews = template_reviews_for_user(request.user)
    audit_record(
        action="list",
        actor=request.user,
        role=RISK_APPROVER,
        object_type="templateversion",
        detail={"versions": [review.version.pk for review in reviews]},
    )
    forms = {review.version.pk: form if review.version.pk == form_for else DecisionForm() for review in reviews}
    rows = [(review, forms[review.version.pk]) for review in reviews]
    return render(request, "review/template_queue.html", {"rows": rows}, status=status)


@role_required(RISK_APPROVER)
@require_GET
@_audit_fail_closed
def template_queue(request: HttpRequest) -> HttpResponse:
    """Family template versions awaiting approval: rendered under each profile, diffed, with the firewall's findings."""
    return _template_page(request)


@role_required(RISK_APPROVER)
@require_POST
@_audit_fail_closed
def template_decide(request: HttpRequest, version_id: int) -> HttpResponse:
    """Decide a version: 403 for its author, 409 once decided or superseded, 200 with errors for bad input."""
    version = _scoped(
        request,
        RISK_APPROVER,
        "templateversion",
        version_id,
        lambda: template_version_get_for_review(request.user, version_id),
    )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _template_page(request, form_for=version.pk, form=form)
    try:
        decided = template_version_decide(
            version_id=version.pk,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except TemplateDecisionConflict:
        messages.error(request, _("%(version)s no longer awaits a decision.") % {"version": version})
        return _template_page(request, status=409)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _template_page(request, form_for=version.pk, form=form)
    if decided.is_approved:
        messages.success(request, _("%(version)s approved: officers may now use it.") % {"version": decided})
    else:
        messages.success(request, _("%(version)s rejected.") % {"version": decided})
    return redirect(reverse("review:templates"))


# --- policy proposals ---------------------------------------------------------------------------------------------


def _policy_page(
    request: HttpRequest, *, form_for: int | None = None, form: DecisionForm | None = None, status: int = 200
) -> HttpResponse:
    """Policy proposals awaiting a decision and the recently decided; `form` (with errors) goes with `form_for`."""
    now = timezone.now()
    pending = policy_proposals_pending(request.user, now=now)
    decided = policy_proposals_decided(request.user, now=now)
    audit_record(
        action="list",
        actor=request.user,
        role=RISK_APPROVER,
        object_type="policyproposal",
        detail={"proposals": [review.proposal.pk for review in pending + decided]},
    )
    rows = [(review, form if review.proposal.pk == form_for else DecisionForm()) for review in pending]
    context = {"rows": rows, "decided": decided, "may_file": policy_proposal_may_file(request.user)}
    return render(request, "review/policy_queue.html", context, status=status)


@role_required(RISK_APPROVER)
@require_GET
@_audit_fail_closed
def policy_queue(request: HttpRequest) -> HttpResponse:
    """Policy proposals awaiting a risk approver who did not propose them, with the values in force beside."""
    return _policy_page(request)


@role_required(RISK_APPROVER)
@require_GET
@_audit_fail_closed
def policy_dry_run_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """What a proposal would change today (accounts for family contact, the ladder's messages), before a decision."""
    proposal = _scoped(
        request,
        RISK_APPROVER,
        "policyproposal",
        proposal_id,
        lambda: policy_proposal_get_for_decision(request.user, proposal_id),
    )
    dry_run = policy_proposal_dry_run(proposal, now=timezone.now())
    audit_record(
        action="view",
        actor=request.user,
        role=RISK_APPROVER,
        object_type="policyproposal",
        object_id=proposal.pk,
        detail={"dry_run": True, "version_in_force": dry_run.version_in_force_id},
    )
    return render(request, "review/policy_dry_run.html", {"proposal": proposal, "dry_run": dry_run})


def _floor_errors_on_value(exc: ValidationError, changes: dict[str, Any]) -> ValidationError:
    """The service's errors, those of the proposed field shown on `value` (the form has no field of that name)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({("value" if name in changes else name): errors for name, errors in exc.error_dict.items()})


@access_required(allowed=policy_proposal_may_file, role=RISK_APPROVER)
@require_http_methods(["GET", "POST"])
@_audit_fail_closed
def policy_new(request: HttpRequest) -> HttpResponse:
    """File a policy proposal; one crossing a legal floor answers 200 with the rule and its source, writing nothing."""
    form = PolicyProposalForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["portfolio"] is not None:
                proposal = policy_switch_file(
                    actor=request.user,
                    portfolio=data["portfolio"],
                    new_profile=data["profile"],
                    effective_from=data["effective_from"],
                )
            else:
                proposal = policy_change_file(
                    actor=request.user,
                    profile=data["profile"],
                    changes=data["changes"],
                    effective_from=data["effective_from"],
                )
        except ValidationError as exc:
            add_service_errors(form, _floor_errors_on_value(exc, data.get("changes") or {}))
        else:
            messages.success(
                request,
                _("Proposal #%(id)d filed: it takes effect once another risk approver approves it.")
                % {"id": proposal.pk},
            )
            approver = user_has_role(request.user, RISK_APPROVER)
            return redirect_303(reverse("review:policies" if approver else "review:policy_new"))
    audit_record(
        action="view",
        actor=request.user,
        role=RISK_APPROVER,
        object_type="policyproposal",
        outcome="ok" if request.method == "GET" else "invalid",
        detail={"form": True},
    )
    return render(request, "review/policy_new.html", {"form": form})


@role_required(RISK_APPROVER)
@require_POST
@_audit_fail_closed
def policy_decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Decide a proposal: 403 for its proposer, 409 once decided, 200 with errors for bad input or a floor."""
    proposal = _scoped(
        request,
        RISK_APPROVER,
        "policyproposal",
        proposal_id,
        lambda: policy_proposal_get_for_decision(request.user, proposal_id),
    )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _policy_page(request, form_for=proposal.pk, form=form)
    try:
        decided = policy_proposal_decide(
            proposal_id=proposal.pk,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except PermissionDenied as exc:  # the proposer: the page says why, with the 403
        messages.error(request, str(exc))
        return _policy_page(request, status=403)
    except PolicyDecisionConflict:
        messages.error(request, _("%(proposal)s no longer awaits a decision.") % {"proposal": proposal})
        return _policy_page(request, status=409)
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _policy_page(request, form_for=proposal.pk, form=form)
    if decided.status == decided.Status.APPROVED:
        messages.success(request, _("%(proposal)s approved.") % {"proposal": decided})
    else:
        messages.success(request, _("%(proposal)s rejected.") % {"proposal": decided})
    return redirect(reverse("review:policies"))
