"""The data-subject request pages: the auditor's list, one request with its decision, the access file's download,
and the filing form (officers for their caseload, auditors for any account).

Auditors never see a personal value on screen: the pages name people by relationship and id, show identifiers in a
correction masked, and the access file goes only to a download that is audited as a reveal.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from access.roles import CASE_OFFICER, COMPLIANCE_AUDITOR, role_required, user_has_role
from audit.permissions import access_required
from audit.record import audit_record, person_key
from collections_app.account_rules import RevealPurpose
from collections_app.masking import mask_id_number, mask_name, mask_phone
from collections_app.models import DataSubjectRequest, LoanAccount
from collections_app.officer_scope import officer_account
from collections_app.privacy.access_file import access_file_build, access_file_fields
from collections_app.privacy.corrections import CORRECTABLE
from collections_app.privacy.forms import PrivacyDecisionForm, PrivacyFilterForm, PrivacyRequestForm
from collections_app.selectors.accounts import get_or_404, loan_account_contacts
from collections_app.selectors.privacy import privacy_request_get_for_auditor, privacy_requests_for_auditor
from collections_app.services.privacy import (
    RequestDecided,
    privacy_request_decide,
    privacy_request_file,
    privacy_request_start,
)
from collections_app.view_helpers import add_service_errors, redirect_303

# What the detail page shows of a request: the person's words and the corrected values (identifiers masked).
REQUEST_DETAIL_FIELDS = ("privacyrequest.text", "privacyrequest.correction")
MASKS = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number}
# What each code of a request's outcome means (`collections_app.services.privacy`).
DONE_LABELS = {
    "access_file_ready": gettext_lazy("The access file can be downloaded; each download is recorded as a reveal."),
    "corrected_in_app": gettext_lazy("The contact's details were corrected in the app."),
    "forwarded_to_core": gettext_lazy("The correction was forwarded to the core lending system."),
    "contact_erased": gettext_lazy("The contact's data was erased; only a keyed hash of the number remains."),
    "request_words_erased": gettext_lazy("The words of the contact's requests were erased."),
    "cease_recorded": gettext_lazy("Communication ceases: only the notices the law requires still go out."),
    "refused": gettext_lazy("Refused: nothing was changed."),
}

# Officers file for the accounts of their caseload, auditors for any account.
officer_or_auditor_required = access_required(
    allowed=lambda user: user_has_role(user, CASE_OFFICER) or user_has_role(user, COMPLIANCE_AUDITOR),
    role=f"{CASE_OFFICER}|{COMPLIANCE_AUDITOR}",
)


@role_required(COMPLIANCE_AUDITOR)
@require_GET
@never_cache
def privacy_request_list(request: HttpRequest) -> HttpResponse:
    """Every request, pending ones first and the overdue among them marked; `?status=` filters (400 if unknown)."""
    form = PrivacyFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    status = form.cleaned_data["status"]
    requests = privacy_requests_for_auditor(user=request.user, now=timezone.now(), status=status)
    audit_record(
        action="list",
        actor=request.user,
        role=COMPLIANCE_AUDITOR,
        object_type="privacyrequest",
        persons=sorted({r.person for r in requests}),
        detail={"rows": len(requests), "status": status},
    )
    context = {"requests": requests, "form": form}
    return render(request, "collections_app/privacyrequest_list.html", context)


def _account_for(request: HttpRequest, role: str, raw: str | None) -> LoanAccount:
    """The account a filing names: in the officer's caseload, or any for an auditor; 404 (audited) otherwise."""
    if not (raw or "").isascii() or not (raw or "").isdigit() or len(raw) > 18:
        raise Http404("No such account.")
    if role == CASE_OFFICER:
        return officer_account(request, int(raw))
    try:
        return get_or_404(LoanAccount.objects.select_related("borrower"), raw, "account")
    except Http404:
        audit_record(
            action="permission_denied",
            actor=request.user,
            role=COMPLIANCE_AUDITOR,
            object_type="loanaccount",
            object_id=int(raw),
            outcome="not_found",
            detail={"path": request.path[:200]},
        )
        raise


def _account_id_by_number(number: str) -> str:
    """The id of the account with this number, as text ("" when there is none: the caller answers 404)."""
    number = number.strip()
    if not number or len(number) > LoanAccount._meta.get_field("account_number").max_length:
        return ""
    found = LoanAccount.objects.filter(account_number=number).values_list("pk", flat=True).first()
    return "" if found is None else str(found)


@officer_or_auditor_required
@require_http_methods(["GET", "POST"])
def privacy_request_new(request: HttpRequest) -> HttpResponse:
    """File a request for an account (`?account=<id>`, an auditor's `?account_number=`, or `account` in the POST)."""
    role = COMPLIANCE_AUDITOR if user_has_role(request.user, COMPLIANCE_AUDITOR) else CASE_OFFICER
    raw = request.POST.get("account") if request.method == "POST" else request.GET.get("account")
    if raw is None and role == COMPLIANCE_AUDITOR and request.method == "GET":
        # An auditor knows the account by the number a letter quotes, not by its id (`?account_number=`).
        raw = _account_id_by_number(request.GET.get("account_number", ""))
    account = _account_for(request, role, raw)
    contacts = list(loan_account_contacts(account).order_by("pk"))
    show_names = role == CASE_OFFICER
    form = PrivacyRequestForm(
        request.POST if request.method == "POST" else None,
        contacts=contacts,
        show_names=show_names,
        initial={"account": account.pk},
    )
    if form.is_valid():
        try:
            filed = privacy_request_file(
                account=account,
                actor=request.user,
                role=role,
                subject=form.cleaned_data["subject"],
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                correction=form.cleaned_data["correction"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Data-subject request recorded."))
            if role == CASE_OFFICER:
                return redirect_303(account.get_absolute_url())
            return redirect_303(reverse("privacy:detail", args=[filed.pk]))
    audit_record(
        action="view",
        actor=request.user,
        role=role,
        object_type="loanaccount",
        object_id=account.pk,
        persons=[person_key("borrower", account.borrower_id)] + [person_key("contact", c.pk) for c in contacts],
        fields=("contact.name", "contact.relationship") if show_names else ("contact.relationship",),
    )
    context = {"account": account, "form": form, "is_officer": role == CASE_OFFICER}
    return render(request, "collections_app/privacyrequest_form.html", context)


def _corrections_shown(privacy_request: DataSubjectRequest) -> list[tuple[str, str, bool]]:
    """(label, value as shown, forwarded only) per corrected field: identifiers masked, the rest as given."""
    rows = []
    for name, value in sorted(privacy_request.correction.items()):
        field = CORRECTABLE.get(name)
        if field is None:
            continue
        mask = MASKS.get(field.attribute)
        if not privacy_request.is_pending:
            value = _("not kept after the decision")
        elif mask:
            value = mask(value)
        rows.append((str(field.label), value, not field.in_app))
    return rows


def _detail_page(
    request: HttpRequest, request_id: int, form: PrivacyDecisionForm | None = None, status: int = 200
) -> HttpResponse:
    privacy_request = privacy_request_get_for_auditor(user=request.user, request_id=request_id)
    audit_record(
        action="view",
        actor=request.user,
        role=COMPLIANCE_AUDITOR,
        object_type="privacyrequest",
        object_id=privacy_request.pk,
        persons=[privacy_request.person],
        fields=REQUEST_DETAIL_FIELDS,
    )
    context = {
        "req": privacy_request,
        "form": form or PrivacyDecisionForm(),
        "corrections": _corrections_shown(privacy_request),
        "overdue": privacy_request.is_pending and privacy_request.deadline < timezone.now(),
        "done": [DONE_LABELS.get(code, code) for code in privacy_request.outcome.get("done", [])],
    }
    return render(request, "collections_app/privacyrequest_detail.html", context, status=status)


@role_required(COMPLIANCE_AUDITOR)
@require_GET
@never_cache
def privacy_request_detail(request: HttpRequest, privacy_request_id: int) -> HttpResponse:
    """One request: the person's words, what they ask, its deadline, and the decision (or the form to take it)."""
    return _detail_page(request, privacy_request_id)


@role_required(COMPLIANCE_AUDITOR)
@require_POST
def privacy_request_decide_view(request: HttpRequest, privacy_request_id: int) -> HttpResponse:
    """Take a request in hand, fulfil or refuse it: 403 for the auditor who filed it, 409 once decided, 200 with the
    errors for bad input."""
    privacy_request = privacy_request_get_for_auditor(user=request.user, request_id=privacy_request_id)
    form = PrivacyDecisionForm(request.POST)
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == "start":
                privacy_request_start(request=privacy_request, auditor=request.user)
            else:
                privacy_request_decide(
                    request=privacy_request,
                    auditor=request.user,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                )
        except PermissionDenied as exc:  # the auditor who filed it: the page says why, with the 403
            messages.error(request, str(exc))
            return _detail_page(request, privacy_request_id, status=403)
        except RequestDecided:
            messages.error(request, _("This request has already been decided; nothing was changed."))
            return _detail_page(request, privacy_request_id, status=409)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect_303(reverse("privacy:detail", args=[privacy_request.pk]))
    return _detail_page(request, privacy_request_id, form=form)


@role_required(COMPLIANCE_AUDITOR)
@require_GET
def privacy_request_access_file(request: HttpRequest, privacy_request_id: int) -> HttpResponse:
    """The person's access file of a fulfilled access request, as a download recorded as a reveal first."""
    privacy_request = privacy_request_get_for_auditor(user=request.user, request_id=privacy_request_id)
    if privacy_request.kind != DataSubjectRequest.Kind.ACCESS or privacy_request.status != "fulfilled":
        raise Http404("No access file for this request.")
    now = timezone.now()
    content = access_file_build(request=privacy_request, user=request.user, now=now)
    # Written (and committed) before a byte goes out: fail closed if it cannot be.
    audit_record(
        action="reveal",
        actor=request.user,
        role=COMPLIANCE_AUDITOR,
        object_type="privacyrequest",
        object_id=privacy_request.pk,
        persons=[privacy_request.person],
        fields=access_file_fields(privacy_request),
        # DOMAIN.md, "More roles": the download is a reveal for this purpose.
        purpose=RevealPurpose.DATA_SUBJECT_ACCESS.value,
        detail={"format": "json", "bytes": len(content)},
    )
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    name = f"access-file-{privacy_request.person.replace(':', '-')}-request-{privacy_request.pk}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
