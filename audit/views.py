"""The auditor's pages: the log, its CSV export, the compliance exceptions (and theirs), the last verification
and a person's access report.

Each page is itself audited (`list` or `export`) before anything is sent. The log holds field names and
ids, never personal values, so nothing here needs masking.
"""

import csv
import datetime
import logging
from collections.abc import Iterable, Iterator, Sequence

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.bounds import MAX_QUERY_INTEGER
from audit.detach import DetachDecided, detach_decide, detach_request, months_in_database
from audit.forms import (
    DEFAULT_MONTHS,
    AuditFilter,
    AuditFilterForm,
    DetachDecisionForm,
    DetachRequestForm,
    ExceptionFilterForm,
    LegalHoldForm,
    LegalHoldLiftForm,
    VerificationStartForm,
    months_back,
)
from audit.models import DetachRequest, LegalHold, VerificationRun
from audit.permissions import AUDITOR_ROLE, auditor_required
from audit.record import audit_record, person_key
from audit.selectors import (
    EXCEPTION_DETAIL_KEYS,
    EXPORT_COLUMNS,
    Page,
    audit_event_page,
    audit_export_bounds,
    audit_export_rows,
    detach_requests,
    legal_holds_lifted,
    legal_holds_standing,
    verification_latest,
    verification_recent,
)
from audit.services import LegalHoldLifted, legal_hold_lift, legal_hold_set, verification_request
from audit.tasks import audit_verify

logger = logging.getLogger(__name__)

# Spreadsheets run cells starting with these as formulas (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like values get a leading apostrophe."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[Iterable[object]], columns: Sequence[str]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def _person_id(person_id: str) -> int:
    """The id a person URL names; Http404 beyond any id the database can hold (and before int() parses it)."""
    if len(person_id) > len(str(MAX_QUERY_INTEGER)) or int(person_id) > MAX_QUERY_INTEGER:
        raise Http404
    return int(person_id)


def _persons_of(events: Iterable) -> list[str]:
    return sorted({person for event in events for person in event.persons})


def _persons_shown(audit_filter: AuditFilter, page: Page) -> list[str]:
    """The persons a page of the log shows: every person of the one event it opens, else the person it is
    filtered by (the other rows show how many persons they name, not who)."""
    if audit_filter.event is not None:
        return sorted({person for event in page.events for person in event.persons})
    return [audit_filter.person] if audit_filter.person else []


def _window(request: HttpRequest, audit_filter: AuditFilter) -> dict[str, object]:
    """The months a page looks at, and the query string of the months before them (other filters kept)."""
    if audit_filter.date_from is None:
        return {"window_from": None, "earlier_query": ""}
    earlier = request.GET.copy()
    earlier.pop("before", None)
    earlier["from"] = months_back(audit_filter.date_from - datetime.timedelta(days=1), DEFAULT_MONTHS).isoformat()
    earlier["to"] = (audit_filter.date_from - datetime.timedelta(days=1)).isoformat()
    return {"window_from": audit_filter.date_from, "earlier_query": earlier.urlencode()}


def _lender_today() -> datetime.date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _filtered_log(
    request: HttpRequest, form: AuditFilterForm, template: str, *, with_detail: bool = False, **detail: object
) -> HttpResponse:
    """A filtered page of the log, newest first, within the months asked for (by default the last few), audited
    as a `list` event (`detail` added to its detail). `with_detail`: the page shows each event's detail and
    persons (otherwise a count of persons linking to the event)."""
    page, window = None, {}
    status = 200
    if form.is_valid():
        audit_filter = form.audit_filter().within_months(_lender_today())
        page = audit_event_page(
            user=request.user,
            audit_filter=audit_filter,
            before=form.cleaned_data["before"],
            with_detail=with_detail,
        )
        window = _window(request, audit_filter)
        shown = _persons_of(page.events) if with_detail else _persons_shown(audit_filter, page)
        audit_record(
            action="list",
            actor=request.user,
            role=AUDITOR_ROLE,
            object_type="auditevent",
            persons=shown,
            detail={
                **detail,
                "filter": audit_filter.as_detail(),
                "before": form.cleaned_data["before"],
                "rows": len(page.events),
            },
        )
    else:
        # The filter again with its errors, answered 400: a query out of bounds is the client's mistake.
        status = 400
        audit_record(
            action="list",
            actor=request.user,
            role=AUDITOR_ROLE,
            object_type="auditevent",
            outcome="invalid",
            detail={**detail, "errors": sorted(form.errors)},
        )
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "page": page, "query": query.urlencode(), **window}
    return render(request, template, context, status=status)


@never_cache
@require_GET
@auditor_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The log, filtered, newest first, one keyset page at a time."""
    return _filtered_log(request, AuditFilterForm(request.GET), "audit/auditevent_list.html")


def _export_response(
    request: HttpRequest,
    audit_filter: AuditFilter,
    filename: str,
    *,
    detail_keys: Sequence[str] = (),
    **event: object,
) -> HttpResponse:
    bounds = audit_export_bounds(user=request.user, audit_filter=audit_filter)
    # Written (and committed) before the first byte goes out: filter, keyset bounds and row count.
    audit_record(
        action="export",
        actor=request.user,
        role=AUDITOR_ROLE,
        detail={
            "filter": audit_filter.as_detail(),
            "bounds": {"first_id": bounds.first_id, "last_id": bounds.last_id},
            "rows": bounds.rows,
            "format": "csv",
        },
        **event,
    )
    rows = audit_export_rows(user=request.user, audit_filter=audit_filter, bounds=bounds, detail_keys=detail_keys)
    lines = _csv_lines(rows, (*EXPORT_COLUMNS, *detail_keys))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@auditor_required
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered log as CSV, streamed in id order."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/auditevent_list.html", {"form": form, "page": None, "query": ""}, status=400)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return _export_response(request, form.audit_filter(), f"audit-{stamp}.csv", object_type="auditevent")


@never_cache
@require_GET
@auditor_required
def compliance_exceptions(request: HttpRequest) -> HttpResponse:
    """Calls logged against the contact gate's answer, with the rules they broke: filtered, newest first."""
    form = ExceptionFilterForm(request.GET)
    return _filtered_log(request, form, "audit/exceptions.html", with_detail=True, report="compliance_exceptions")


@require_GET
@auditor_required
def compliance_exceptions_csv(request: HttpRequest) -> HttpResponse:
    """The filtered compliance exceptions as CSV: the log's columns, then the rules broken and the policy version."""
    form = ExceptionFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/exceptions.html", {"form": form, "page": None, "query": ""}, status=400)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    filename = f"compliance-exceptions-{stamp}.csv"
    return _export_response(
        request, form.audit_filter(), filename, detail_keys=EXCEPTION_DETAIL_KEYS, object_type="auditevent"
    )


def _verification_page(request: HttpRequest, form: VerificationStartForm, status: int = 200) -> HttpResponse:
    """The last run of each kind and the recent ones, with the form that starts a run (audited as a list)."""
    runs = verification_recent(user=request.user)
    latest = {kind: verification_latest(user=request.user, kind=kind) for kind in VerificationRun.Kind.values}
    audit_record(
        action="list",
        actor=request.user,
        role=AUDITOR_ROLE,
        object_type="verificationrun",
        object_id=runs[0].pk if runs else "",
        detail={"rows": len(runs)},
    )
    context = {"run": runs[0] if runs else None, "latest": latest, "runs": runs, "form": form}
    return render(request, "audit/verification.html", context, status=status)


@never_cache
@require_GET
@auditor_required
def verification(request: HttpRequest) -> HttpResponse:
    """The last `verify_audit` result of each kind, when they ran, and a form to start one."""
    return _verification_page(request, VerificationStartForm(initial={"kind": "incremental"}))


@never_cache
@require_POST
@auditor_required
def verification_start(request: HttpRequest) -> HttpResponse:
    """Start a verify run as a task (recorded first: no run starts unaudited); back to the verify page."""
    form = VerificationStartForm(request.POST)
    if not form.is_valid():
        return _verification_page(request, form)
    kind = form.cleaned_data["kind"]
    verification_request(user=request.user, role=AUDITOR_ROLE, kind=kind)
    try:
        audit_verify.delay(incremental=kind == "incremental", requested_by=request.user.get_username())
    except Exception:  # noqa: BLE001 - the broker is down: say so; the request stays recorded
        logger.warning("could not start a verify run", exc_info=True)
        messages.error(request, _("The verification could not be started; try again later."))
    else:
        messages.success(request, _("Verification started; its result appears here when it finishes."))
    return redirect("audit:verification", permanent=False)


@never_cache
@require_GET
@auditor_required
def person_report(request: HttpRequest, kind: str, person_id: str) -> HttpResponse:
    """A person's access report (PIPL Art. 45): who saw their data, when, which fields and why; one keyset page
    at a time within the months asked for (`from`, `to`; by default the last few)."""
    person_pk = _person_id(person_id)
    person = person_key(kind, person_pk)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    audit_filter = AuditFilter(person=person, date_from=data["from"], date_to=data["to"])
    audit_filter = audit_filter.within_months(_lender_today())
    before = data["before"]
    page = audit_event_page(user=request.user, audit_filter=audit_filter, before=before)
    audit_record(
        action="list",
        actor=request.user,
        role=AUDITOR_ROLE,
        object_type=kind,
        object_id=person_pk,
        persons=[person],
        detail={"report": "access", "filter": audit_filter.as_detail(), "before": before, "rows": len(page.events)},
    )
    query = request.GET.copy()
    query.pop("before", None)
    context = {"kind": kind, "person_id": person_pk, "page": page, "form": form, "query": query.urlencode()}
    return render(request, "audit/person_report.html", {**context, **_window(request, audit_filter)})


@require_GET
@auditor_required
def person_report_csv(request: HttpRequest, kind: str, person_id: str) -> HttpResponse:
    """The access report as CSV."""
    person_pk = _person_id(person_id)
    person = person_key(kind, person_pk)
    return _export_response(
        request,
        AuditFilter(person=person),
        f"access-report-{kind}-{person_pk}.csv",
        object_type=kind,
        object_id=person_pk,
        persons=[person],
    )


def _holds_page(
    request: HttpRequest, form: LegalHoldForm, lift_form: LegalHoldLiftForm | None = None, status: int = 200
) -> HttpResponse:
    """The standing and recently lifted holds with the forms that set and lift them (audited as a list)."""
    standing = legal_holds_standing(user=request.user)
    lifted = legal_holds_lifted(user=request.user)
    audit_record(
        action="list",
        actor=request.user,
        role=AUDITOR_ROLE,
        object_type="legalhold",
        persons=sorted({hold.person for hold in (*standing, *lifted)}),
        detail={"rows": len(standing) + len(lifted)},
    )
    context = {"standing": standing, "lifted": lifted, "form": form, "lift_form": lift_form or LegalHoldLiftForm()}
    return render(request, "audit/legal_holds.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@auditor_required
def legal_holds(request: HttpRequest) -> HttpResponse:
    """Legal holds: the standing ones, the lifted ones, and (POST) a new hold on a person, with its reason."""
    if request.method != "POST":
        return _holds_page(request, LegalHoldForm())
    form = LegalHoldForm(request.POST)
    if not form.is_valid():
        return _holds_page(request, form)
    legal_hold_set(user=request.user, role=AUDITOR_ROLE, **form.cleaned_data)
    messages.success(request, _("Legal hold set."))
    return redirect("audit:legal_holds")


@never_cache
@require_POST
@auditor_required
def legal_hold_lift_view(request: HttpRequest) -> HttpResponse:
    """Lift one standing legal hold (POST `hold` and `reason`): 404 for an unknown hold, 409 if lifted already."""
    form = LegalHoldLiftForm(request.POST)
    if not form.is_valid():
        return _holds_page(request, LegalHoldForm(), lift_form=form)
    try:
        data = form.cleaned_data
        legal_hold_lift(user=request.user, role=AUDITOR_ROLE, hold_id=data["hold"], reason=data["reason"])
    except LegalHold.DoesNotExist as exc:
        raise Http404 from exc
    except LegalHoldLifted:
        return HttpResponse(_("This legal hold was lifted already."), status=409)
    messages.success(request, _("Legal hold lifted."))
    return redirect("audit:legal_holds")


def _archives_page(
    request: HttpRequest, form: DetachRequestForm, decide_form: DetachDecisionForm | None = None
) -> HttpResponse:
    """The months in the database, the detach requests and their decisions, with the forms (audited as a list)."""
    requests = detach_requests(user=request.user)
    audit_record(
        action="list",
        actor=request.user,
        role=AUDITOR_ROLE,
        object_type="detachrequest",
        detail={"rows": len(requests)},
    )
    context = {
        "months": months_in_database(),
        "requests": requests,
        "form": form,
        "decide_form": decide_form or DetachDecisionForm(),
    }
    return render(request, "audit/archives.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@auditor_required
def archives(request: HttpRequest) -> HttpResponse:
    """Detaching archived months: the requests and (POST `month`, `reason`) a new one, for a second auditor."""
    if request.method != "POST":
        return _archives_page(request, DetachRequestForm())
    form = DetachRequestForm(request.POST)
    if form.is_valid():
        try:
            detach_request(
                user=request.user, role=AUDITOR_ROLE, month=form.month_start(), reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error("month", exc)
        else:
            messages.success(request, _("Detach requested; a second auditor decides it."))
            return redirect("audit:archives")
    return _archives_page(request, form)


@never_cache
@require_POST
@auditor_required
def archive_decide(request: HttpRequest) -> HttpResponse:
    """Approve or reject a detach request (POST `request`, `decision`, `reason`): 404 for an unknown request,
    403 for one's own, 409 for one decided already."""
    form = DetachDecisionForm(request.POST)
    if not form.is_valid():
        return _archives_page(request, DetachRequestForm(), decide_form=form)
    data = form.cleaned_data
    try:
        detach_decide(
            user=request.user,
            role=AUDITOR_ROLE,
            request_id=data["request"],
            approve=data["decision"] == "approve",
            reason=data["reason"],
        )
    except DetachRequest.DoesNotExist as exc:
        raise Http404 from exc
    except PermissionError as exc:
        raise PermissionDenied from exc
    except DetachDecided:
        return HttpResponse(_("This request was decided already."), status=409)
    messages.success(request, _("Decision recorded."))
    return redirect("audit:archives")
