"""The officer's complaint register: the list (overdue first), filing a complaint, moving one to its next status."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.roles import CASE_OFFICER, role_required
from audit.record import audit_record, person_key
from collections_app.forms import ComplaintAdvanceForm, ComplaintForm
from collections_app.models import Complaint
from collections_app.officer_scope import in_officer_scope, officer_account
from collections_app.selectors.accounts import loan_account_contacts
from collections_app.selectors.complaints import complaint_get_for_user, complaints_for_officer
from collections_app.services.complaints import complaint_advance, complaint_file

# One way of answering a form, the account pages' own.
from collections_app.view_helpers import add_service_errors, redirect_303

# What the register shows of each complaint: the complainant's words (the people stay as ids and relationships).
COMPLAINT_LIST_FIELDS = ("complaint.text", "complaint.resolution")
# What the filing form shows: the contacts' masked names, to choose the complainant.
COMPLAINT_FORM_FIELDS = ("contact.name", "contact.relationship")


def _persons(complaints: list[Complaint]) -> list[str]:
    keys = {person_key("borrower", c.account.borrower_id) for c in complaints}
    keys |= {person_key("contact", c.contact_id) for c in complaints if c.contact_id is not None}
    return sorted(keys)


@role_required(CASE_OFFICER)
@require_GET
def complaint_list(request: HttpRequest) -> HttpResponse:
    """The complaints about the officer's accounts, overdue ones first and marked."""
    return _render_list(request)


def _render_list(
    request: HttpRequest, failed_id: int | None = None, failed: ComplaintAdvanceForm | None = None
) -> HttpResponse:
    """The register, audited as a list; `failed` is a refused step's form, shown by complaint `failed_id`."""
    complaints = complaints_for_officer(user=request.user, now=timezone.now())
    audit_record(
        action="list",
        actor=request.user,
        role=CASE_OFFICER,
        object_type="complaint",
        persons=_persons(complaints),
        fields=COMPLAINT_LIST_FIELDS,
        detail={"rows": len(complaints)},
    )
    context = {
        "complaints": complaints,
        "advance_form": ComplaintAdvanceForm(auto_id=False),
        "failed_id": failed_id,
        "failed_form": failed,
    }
    return render(request, "collections_app/complaint_list.html", context)


@role_required(CASE_OFFICER)
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    """File a complaint about an account of the caseload (`?account=<id>`, or `account` in the POST)."""
    raw = request.POST.get("account") if request.method == "POST" else request.GET.get("account")
    if not (raw or "").isdigit():
        raise Http404("No such account.")
    account = officer_account(request, int(raw))
    contacts = list(loan_account_contacts(account).order_by("pk"))
    form = ComplaintForm(
        request.POST if request.method == "POST" else None, contacts=contacts, initial={"account": account.pk}
    )
    if form.is_valid():
        try:
            complaint_file(
                account=account,
                officer=request.user,
                complainant=form.cleaned_data["complainant"],
                channel=form.cleaned_data["channel"],
                category=form.cleaned_data["category"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Complaint filed."))
            return redirect_303(reverse("complaints:list"))
    audit_record(
        action="view",
        actor=request.user,
        role=CASE_OFFICER,
        object_type="loanaccount",
        object_id=account.pk,
        persons=[person_key("borrower", account.borrower_id)] + [person_key("contact", c.pk) for c in contacts],
        fields=COMPLAINT_FORM_FIELDS,
    )
    context = {"account": account, "form": form, "title": _("File a complaint"), "action": request.path}
    return render(request, "collections_app/complaint_form.html", context)


@role_required(CASE_OFFICER)
@require_POST
def complaint_advance_view(request: HttpRequest, complaint_id: int) -> HttpResponse:
    """Move one complaint of the officer's accounts to its next status (resolving needs the resolution)."""
    complaint = in_officer_scope(
        request,
        complaint_id,
        lambda: complaint_get_for_user(user=request.user, complaint_id=complaint_id),
        object_type="complaint",
    )
    form = ComplaintAdvanceForm(request.POST, auto_id=False)
    if form.is_valid():
        try:
            complaint_advance(complaint=complaint, officer=request.user, resolution=form.cleaned_data["resolution"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect_303(reverse("complaints:list"))
    return _render_list(request, failed_id=complaint.pk, failed=form)
