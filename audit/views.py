"""The auditor's pages: the log, its CSV export, the compliance exceptions (and theirs), the last verification
and a person's access report.

Each page is itself audited (`list` or `export`) before anything is sent. The log holds field names and
ids, never personal values, so nothing here needs masking.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.bounds import MAX_QUERY_INTEGER
from audit.forms import AuditFilter, AuditFilterForm, CursorForm, ExceptionFilterForm
from audit.permissions import AUDITOR_ROLE, auditor_required
from audit.record import audit_record, person_key
from audit.selectors import (
    EXCEPTION_DETAIL_KEYS,
    EXPORT_COLUMNS,
    audit_event_page,
    audit_export_bounds,
    audit_export_rows,
    verification_latest,
)

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


def _filtered_log(
    request: HttpRequest, form: AuditFilterForm, template: str, *, with_detail: bool = False, **detail: object
) -> HttpResponse:
    """A filtered page of the log, newest first, audited as a `list` event (`detail` added to its detail)."""
    page = None
    status = 200
    if form.is_valid():
        audit_filter = form.audit_filter()
        page = audit_event_page(
            user=request.user,
            audit_filter=audit_filter,
            before=form.cleaned_data["before"],
            with_detail=with_detail,
        )
        audit_record(
            action="list",
            actor=request.user,
            role=AUDITOR_ROLE,
            object_type="auditevent",
            persons=_persons_of(page.events),
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
    context = {"form": form, "page": page, "query": query.urlencode()}
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


@never_cache
@require_GET
@auditor_required
def verification(request: HttpRequest) -> HttpResponse:
    """The last `verify_audit` result and when it ran."""
    run = verification_latest(user=request.user)
    audit_record(
        action="list",
        actor=request.user,
        role=AUDITOR_ROLE,
        object_type="verificationrun",
        object_id=run.pk if run else "",
    )
    return render(request, "audit/verification.html", {"run": run})


@never_cache
@require_GET
@auditor_required
def person_report(request: HttpRequest, kind: str, person_id: str) -> HttpResponse:
    """A person's access report (PIPL Art. 45): who saw their data, when, which fields and why."""
    person_pk = _person_id(person_id)
    person = person_key(kind, person_pk)
    form = CursorForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors["before"].as_text(), content_type="text/plain; charset=utf-8")
    before = form.cleaned_data["before"]
    page = audit_event_page(user=request.user, audit_filter=AuditFilter(person=person), before=before)
    audit_record(
        action="list",
        actor=request.user,
        role=AUDITOR_ROLE,
        object_type=kind,
        object_id=person_pk,
        persons=[person],
        detail={"report": "access", "before": before, "rows": len(page.events)},
    )
    return render(request, "audit/person_report.html", {"kind": kind, "person_id": person_pk, "page": page})


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
