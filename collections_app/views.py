"""The officer's pages: the caseload, one account, its forms and the audited reveal."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.roles import CASE_OFFICER, role_required
from audit.record import audit_record, person_key
from collections_app.account_rules import RevealPurpose, reveal_purpose_choices
from collections_app.dpd import lender_today
from collections_app.forms import (
    BorrowerFlagSetForm,
    CallTaskCloseForm,
    CaseloadFilterForm,
    CommunicationRequestForm,
    FlagCloseForm,
    FlagOpenForm,
    InteractionForm,
    PromiseForm,
    RevealForm,
)
from collections_app.messaging.consent import cease_request_record, channel_stop_record, phone_opt_out_record
from collections_app.messaging.contact_gate import ContactDecision
from collections_app.messaging.inbound import inbound_reply_mark_read
from collections_app.messaging.selectors import inbound_replies_for_account, inbound_reply_get_for_account
from collections_app.models import LoanAccount
from collections_app.officer_scope import in_officer_scope, officer_account
from collections_app.panels import account_sections, caseload_columns
from collections_app.selectors.accounts import (
    borrower_flag_get_for_account,
    call_task_get_for_account,
    contact_get_for_account,
    flag_get_for_account,
    loan_account_contacts,
    loan_account_detail_get,
    portfolios_list,
)
from collections_app.selectors.caseload import caseload_get
from collections_app.selectors.complaints import complaints_for_account
from collections_app.selectors.privacy import privacy_requests_pending_for_account
from collections_app.selectors.profiles import policy_version_for_account
from collections_app.services.accounts import (
    CallRefused,
    flag_close,
    flag_open,
    interaction_log,
    personal_value_reveal,
    promise_create,
)
from collections_app.services.borrower_flags import borrower_flag_clear, borrower_flag_set
from collections_app.services.call_tasks import call_task_close
from collections_app.view_helpers import add_service_errors, redirect_303

# The personal fields each page shows (masked); the audit event of each page names them.
CASELOAD_FIELDS = ("borrower.name",)
ACCOUNT_DETAIL_FIELDS = (
    "borrower.name",
    "borrower.phone",
    "borrower.id_number",
    "contact.name",
    "contact.phone",
    "contact.relationship",
    "message.recipient",
    "message.body",
    "inbound_reply.phone",
    "inbound_reply.text",
    "borrowerflag.representative",
    "complaint.text",
    "complaint.resolution",
)


@role_required(CASE_OFFICER)
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    """The officer's own accounts: bucket summary, then the table sorted by DPD descending."""
    portfolios = portfolios_list()
    filter_form = CaseloadFilterForm(request.GET, portfolios=portfolios)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    data = caseload_get(
        user=request.user,
        today=lender_today(),
        bucket=filters.get("bucket") or "",
        portfolio_id=filters.get("portfolio"),
        q=filters.get("q") or "",
        page_number=request.GET.get("page"),
        now=timezone.now(),
    )
    audit_record(
        action="list",
        actor=request.user,
        role=CASE_OFFICER,
        object_type="loanaccount",
        persons=[person_key("borrower", pk) for pk in data.borrower_ids],
        fields=CASELOAD_FIELDS,
        detail={
            "filters": {key: str(value) for key, value in filters.items() if value not in (None, "")},
            "page": data.page.number,
            "rows": len(data.rows),
            "calls_due": len(data.calls_due),
        },
    )
    # Other apps' columns (the family-contact request, from review) come from the providers the settings name.
    columns = caseload_columns(request.user, [row.account.pk for row in data.rows])
    rows = [(row, columns.cells[row.account.pk]) for row in data.rows]
    context = {"caseload": data, "rows": rows, "columns": columns, "filter_form": filter_form}
    return render(request, "collections_app/loanaccount_list.html", context)


def _render_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    detail = in_officer_scope(
        request,
        account_id,
        lambda: loan_account_detail_get(
            user=request.user, account_id=account_id, today=lender_today(), now=timezone.now()
        ),
    )
    audit_record(
        action="view",
        actor=request.user,
        role=CASE_OFFICER,
        object_type="loanaccount",
        object_id=detail.account.pk,
        persons=detail.persons,
        fields=ACCOUNT_DETAIL_FIELDS,
    )
    context = {
        "detail": detail,
        "account": detail.account,
        "interaction_form": InteractionForm(contacts=[row.contact for row in detail.contacts]),
        "borrower_flag_form": BorrowerFlagSetForm(),
        "promise_form": PromiseForm(),
        "flag_open_form": FlagOpenForm(),
        # One close form per open flag: no ids, so the page has no duplicate element ids.
        "flag_close_form": FlagCloseForm(auto_id=False),
        "communication_form": CommunicationRequestForm(contacts=[row.contact for row in detail.contacts]),
        # The purposes the version in force allows, per field (`borrower_id_number`, `contact_phone`, ...), as the
        # account's query read them.
        "reveal_purposes": reveal_purpose_choices(detail.account),
        # The inbox: replies from the borrower's number and their contacts' (masked numbers, their text).
        "replies": inbound_replies_for_account(account=detail.account),
        # Other apps' sections (the family-contact requests, from review), named in ACCOUNT_PAGE_PANELS.
        "account_sections": account_sections(request.user, detail.account),
        # The account's complaints, overdue ones first (their words are the complainants' own).
        "complaints": complaints_for_account(account=detail.account, now=timezone.now()),
        # Data-subject requests still to be decided (kind, who, deadline: no one's words).
        "privacy_requests": privacy_requests_pending_for_account(account=detail.account, now=timezone.now()),
    }
    return render(request, "collections_app/loanaccount_detail.html", context)


@role_required(CASE_OFFICER)
@require_GET
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    """One account of the caseload with its people, money and history."""
    return _render_detail(request, account_id)


def _form_page(
    request: HttpRequest,
    account: LoanAccount,
    form: Form,
    *,
    title: str,
    action: str,
    status: int = 200,
    refusal: ContactDecision | None = None,
) -> HttpResponse:
    """A form on its own page: shown on GET and again with its errors (and the contact gate's refusal of a call);
    it shows no personal data."""
    context = {"account": account, "form": form, "title": title, "action": action, "refusal": refusal}
    return render(request, "collections_app/loanaccount_form.html", context, status=status)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def interaction_new(request: HttpRequest, account_id: int) -> HttpResponse:
    """Log an interaction on the account; a call the contact gate refuses needs an override reason.

    Refused without one, the page answers 200 with the gate's reasons and writes nothing; with one, the call is
    logged as a compliance exception.
    """
    account = officer_account(request, account_id)
    form = InteractionForm(request.POST if request.method == "POST" else None, contacts=loan_account_contacts(account))
    refusal = None
    if form.is_valid():
        try:
            interaction_log(
                account=account,
                officer=request.user,
                outcome=form.cleaned_data["outcome"],
                channel=form.cleaned_data["channel"],
                note=form.cleaned_data["note"],
                contact=form.chosen_contact,
                override_reason=form.cleaned_data["override_reason"],
            )
        except CallRefused as refused:
            refusal = refused.decision
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Interaction logged."))
            return redirect_303(account.get_absolute_url())
    title = gettext_lazy("Log an interaction")
    return _form_page(request, account, form, title=title, action=request.path, refusal=refusal)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def borrower_flag_new(request: HttpRequest, account_id: int) -> HttpResponse:
    """Flag the account's borrower as represented or as a vulnerable customer, with a reason."""
    account = officer_account(request, account_id)
    form = BorrowerFlagSetForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            borrower_flag_set(
                borrower=account.borrower,
                account=account,
                officer=request.user,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                representative=form.cleaned_data["representative"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Borrower flag set."))
            return redirect_303(account.get_absolute_url())
    return _form_page(request, account, form, title=gettext_lazy("Flag the borrower"), action=request.path)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def borrower_flag_clear_view(request: HttpRequest, account_id: int, flag_id: int) -> HttpResponse:
    """Clear a flag of the account's borrower with a reason."""
    account = officer_account(request, account_id)
    flag = in_officer_scope(
        request, account_id, lambda: borrower_flag_get_for_account(account=account, flag_id=flag_id)
    )
    form = FlagCloseForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            borrower_flag_clear(flag=flag, account=account, officer=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Borrower flag cleared."))
            return redirect_303(account.get_absolute_url())
    title = _("Clear the borrower flag: %(kind)s") % {"kind": flag.get_kind_display()}
    return _form_page(request, account, form, title=title, action=request.path)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def promise_new(request: HttpRequest, account_id: int) -> HttpResponse:
    """Record a promise to pay on the account."""
    account = officer_account(request, account_id)
    form = PromiseForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            promise_create(
                account=account,
                officer=request.user,
                promised_date=form.cleaned_data["promised_date"],
                amount=form.cleaned_data["amount"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Promise to pay recorded."))
            return redirect_303(account.get_absolute_url())
    return _form_page(request, account, form, title=gettext_lazy("Record a promise to pay"), action=request.path)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def flag_new(request: HttpRequest, account_id: int) -> HttpResponse:
    """Open a dispute or hardship flag on the account."""
    account = officer_account(request, account_id)
    form = FlagOpenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            flag_open(
                account=account,
                officer=request.user,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Flag opened."))
            return redirect_303(account.get_absolute_url())
    return _form_page(request, account, form, title=gettext_lazy("Open a flag"), action=request.path)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def communication_request(request: HttpRequest, account_id: int) -> HttpResponse:
    """Record a stopped channel, a cease request or a contact's opt-out that the officer received by phone."""
    account = officer_account(request, account_id)
    form = CommunicationRequestForm(
        request.POST if request.method == "POST" else None, contacts=loan_account_contacts(account)
    )
    if form.is_valid():
        kind = form.cleaned_data["request"]
        borrower = account.borrower
        if kind in CommunicationRequestForm.STOPPED_CHANNELS:
            channel_stop_record(
                borrower=borrower, channel=CommunicationRequestForm.STOPPED_CHANNELS[kind], actor=request.user
            )
        elif kind == CommunicationRequestForm.CEASE:
            cease_request_record(borrower=borrower, actor=request.user)
        else:
            phone_opt_out_record(phone=form.chosen_contact.phone, actor=request.user)
        messages.success(request, _("Recorded."))
        return redirect_303(account.get_absolute_url())
    title = gettext_lazy("Record a communication request")
    return _form_page(request, account, form, title=title, action=request.path)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def flag_close_view(request: HttpRequest, account_id: int, flag_id: int) -> HttpResponse:
    """Close a flag of the account with a reason."""
    account = officer_account(request, account_id)
    flag = in_officer_scope(request, account_id, lambda: flag_get_for_account(account=account, flag_id=flag_id))
    form = FlagCloseForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            flag_close(flag=flag, officer=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Flag closed."))
            return redirect_303(account.get_absolute_url())
    title = _("Close flag: %(kind)s") % {"kind": flag.get_kind_display()}
    return _form_page(request, account, form, title=title, action=request.path)


@role_required(CASE_OFFICER)
@require_POST
def call_task_close_view(request: HttpRequest, account_id: int, task_id: int) -> HttpResponse:
    """Close a phone-call task of the account as done or cancelled."""
    account = officer_account(request, account_id)
    task = in_officer_scope(request, account_id, lambda: call_task_get_for_account(account=account, task_id=task_id))
    form = CallTaskCloseForm(request.POST)
    if form.is_valid():
        try:
            call_task_close(task=task, officer=request.user, status=form.cleaned_data["status"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Call task closed."))
            return redirect_303(account.get_absolute_url())
    title = _("Close the call task of %(date)s") % {"date": task.due_date.isoformat()}
    return _form_page(request, account, form, title=title, action=request.path)


@role_required(CASE_OFFICER)
@require_POST
def inbound_reply_read(request: HttpRequest, account_id: int, reply_id: int) -> HttpResponse:
    """Mark a reply in the account's inbox read."""
    account = officer_account(request, account_id)
    reply = in_officer_scope(
        request, account_id, lambda: inbound_reply_get_for_account(account=account, reply_id=reply_id)
    )
    inbound_reply_mark_read(reply=reply, actor=request.user, role=CASE_OFFICER)
    messages.success(request, _("Reply marked read."))
    return redirect_303(account.get_absolute_url())


def _reveal_refused(request: HttpRequest, message: str) -> HttpResponse:
    response = JsonResponse({"error": message}, status=400)
    response["Cache-Control"] = "no-store"
    return response


@role_required(CASE_OFFICER)
@require_POST
def reveal(request: HttpRequest, account_id: int) -> HttpResponse:
    """Show one full personal value for a stated purpose; the reveal is its own audit event."""
    account = officer_account(request, account_id)
    form = RevealForm(request.POST, policy=policy_version_for_account(account, at=timezone.now()))
    if not form.is_valid():
        message = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return _reveal_refused(request, message)
    target = form.cleaned_data["field"]
    if target.person_type == "contact":
        try:
            person = in_officer_scope(
                request, account_id, lambda: contact_get_for_account(account=account, contact_id=target.contact_id)
            )
        except Http404:
            return _reveal_refused(request, _("This contact does not belong to this account."))
    else:
        person = account.borrower
    try:
        value = personal_value_reveal(
            account=account, person=person, target=target, purpose=form.cleaned_data["purpose"], actor=request.user
        )
    except ValidationError as error:
        return _reveal_refused(request, " ".join(error.messages))
    if request.POST.get("format") == "html":
        response = render(
            request,
            "collections_app/loanaccount_reveal.html",
            {
                "account": account,
                "field": target.field,
                "value": value,
                "purpose": RevealPurpose(form.cleaned_data["purpose"]).label,
            },
        )
    else:
        response = JsonResponse({"field": target.field, "value": value})
    # A revealed value must not linger in any cache; the next look needs a new, audited reveal.
    response["Cache-Control"] = "no-store"
    return response
