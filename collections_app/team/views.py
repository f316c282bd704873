"""The team lead's pages: the dashboard and its CSV, the team's accounts (and those behind a figure), one account
read-only, and reassignment. Each checks the role first (403), then the team's scope (404, audited)."""

import csv
from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from access.roles import TEAM_LEAD, role_required
from audit.record import audit_record, person_key
from collections_app.dpd import BUCKETS_BY_CODE, DaysPastDue, bucket_for, lender_today
from collections_app.models import LoanAccount
from collections_app.selectors.accounts import loan_account_detail_get
from collections_app.team.dashboard import dashboard_months, team_dashboard_get, team_figures
from collections_app.team.drilldown import FigureQuery, figure_accounts, figure_kinds
from collections_app.team.forms import ReassignForm, TeamAccountsForm, TeamFilterForm
from collections_app.team.reassign import team_accounts_reassign
from collections_app.team.scope import team_accounts_for_lead, team_officers_for_lead

# The personal fields each page shows (masked); the audit event of each page names them.
TEAM_LIST_FIELDS = ("borrower.name",)
TEAM_ACCOUNT_FIELDS = (
    "borrower.name",
    "borrower.phone",
    "borrower.id_number",
    "contact.name",
    "contact.phone",
    "contact.relationship",
    "message.recipient",
    "message.body",
)
PAGE_SIZE = 50

T = TypeVar("T")


def in_team_scope(request: HttpRequest, object_type: str, object_id: int | str, load: Callable[[], T]) -> T:
    """Run a read scoped to the lead's team; a 404 (another team's object, or none) is audited as a denied access."""
    try:
        return load()
    except Http404:
        audit_record(
            action="permission_denied",
            actor=request.user,
            role=TEAM_LEAD,
            object_type=object_type,
            object_id=str(object_id)[:64],
            outcome="not_found",
            detail={"path": request.path[:200]},
        )
        raise


def _chosen_officer(request: HttpRequest, form: TeamFilterForm, officers: list[User]) -> User | None:
    """The officer the form names, or None for the whole team; an officer outside the team is a 404 (audited),
    any other bad parameter a 400."""
    if "officer" in form.errors:
        in_team_scope(request, "user", request.GET.get("officer", ""), _not_found)
    if not form.is_valid():
        raise BadRequest(form.errors.as_text())
    username = form.cleaned_data["officer"]
    return next((officer for officer in officers if officer.username == username), None)


def _not_found() -> None:
    raise Http404("No such officer in your team.")


@role_required(TEAM_LEAD)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The team's (or one officer's) last twelve months, charts first; no personal data, so no audit event."""
    officers = list(team_officers_for_lead(request.user))
    form = TeamFilterForm(request.GET, officers=officers)
    officer = _chosen_officer(request, form, officers)
    data = team_dashboard_get(lead=request.user, officer=officer, officers=officers, today=lender_today())
    export = reverse("team:export") + (f"?{urlencode({'officer': officer.username})}" if officer else "")
    return render(request, "collections_app/team/dashboard.html", {"dash": data, "form": form, "export_url": export})


@role_required(TEAM_LEAD)
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    """The dashboard's figures per officer and month as CSV; the export is audited with its filter and row count."""
    officers = list(team_officers_for_lead(request.user))
    officer = _chosen_officer(request, TeamFilterForm(request.GET, officers=officers), officers)
    months = dashboard_months(lender_today())
    ids = [officer.pk] if officer else [member.pk for member in officers]
    rows = list(team_figures(ids, months, per_officer=True))
    audit_record(
        action="export",
        actor=request.user,
        role=TEAM_LEAD,
        object_type="officermonthfigure",
        detail={
            "officer": officer.username if officer else "",
            "from": months[0].isoformat(),
            "to": months[-1].isoformat(),
            "rows": len(rows),
        },
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="team-figures.csv"'
    writer = csv.writer(response)
    writer.writerow(["month", "officer", "kind", "key", "count", "amount"])
    for row in rows:
        writer.writerow(
            [
                row["month"].strftime("%Y-%m"),
                row["officer__username"],
                row["kind"],
                row["key"],
                row["total"],
                row["money"],
            ]
        )
    return response


def _listed_accounts(
    request: HttpRequest, form: TeamAccountsForm, officers: list[User], officer: User | None
) -> QuerySet[LoanAccount] | None:
    """The accounts the list shows: those behind a dashboard figure, or the team's filtered ones; None if invalid."""
    data = form.cleaned_data
    scope = team_accounts_for_lead(request.user)
    if data["figure"]:
        month = data["month"]
        if data["figure"] not in figure_kinds() or month not in dashboard_months(lender_today()):
            return None
        ids = [officer.pk] if officer else [member.pk for member in officers]
        return figure_accounts(scope, FigureQuery(data["figure"], data["key"], month, ids))
    if officer is not None:
        scope = scope.filter(officer=officer)
    if data["bucket"]:
        scope = scope.filter(BUCKETS_BY_CODE[data["bucket"]].due_date_q(lender_today()))
    if data["q"]:
        scope = scope.filter(account_number__icontains=data["q"])
    return scope


@role_required(TEAM_LEAD)
@require_GET
def accounts(request: HttpRequest) -> HttpResponse:
    """The team's accounts, filtered or behind one dashboard figure, with the reassignment form; audited as a list."""
    officers = list(team_officers_for_lead(request.user))
    form = TeamAccountsForm(request.GET, officers=officers)
    officer = _chosen_officer(request, form, officers)
    listed = _listed_accounts(request, form, officers, officer)
    if listed is None:
        return HttpResponse(_("No such figure."), status=400, content_type="text/plain; charset=utf-8")
    today = lender_today()
    rows = listed.select_related("borrower", "portfolio", "officer").annotate(dpd=DaysPastDue(today)).order_by("pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    listed_rows = [(account, bucket_for(account.dpd)) for account in page.object_list]
    audit_record(
        action="list",
        actor=request.user,
        role=TEAM_LEAD,
        object_type="loanaccount",
        persons=[person_key("borrower", account.borrower_id) for account, _bucket in listed_rows],
        fields=TEAM_LIST_FIELDS,
        detail={
            "filters": {key: str(value) for key, value in form.cleaned_data.items() if value not in (None, "")},
            "page": page.number,
            "rows": len(listed_rows),
        },
    )
    context = {
        "form": form,
        "page": page,
        "rows": listed_rows,
        "officers": officers,
        "by_filter": not form.cleaned_data["figure"],
        "reassign_form": ReassignForm(),
    }
    return render(request, "collections_app/team/account_list.html", context)


@role_required(TEAM_LEAD)
@require_GET
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    """One account of the team, read-only and masked (no reveal), audited as a view."""
    scope = team_accounts_for_lead(request.user)
    detail = in_team_scope(
        request,
        "loanaccount",
        account_id,
        lambda: loan_account_detail_get(user=request.user, account_id=account_id, today=lender_today(), scope=scope),
    )
    audit_record(
        action="view",
        actor=request.user,
        role=TEAM_LEAD,
        object_type="loanaccount",
        object_id=detail.account.pk,
        persons=detail.persons,
        fields=TEAM_ACCOUNT_FIELDS,
    )
    return render(request, "collections_app/team/account_detail.html", {"detail": detail, "account": detail.account})


def _reassign_accounts(request: HttpRequest, form: ReassignForm) -> QuerySet[LoanAccount]:
    """The accounts a valid reassignment names: every id in the team (else 404, audited), or the list's filter."""
    data = form.cleaned_data
    scope = team_accounts_for_lead(request.user)
    if data["select"] == "filter":
        if data["filter_officer"]:
            scope = scope.filter(officer__username=data["filter_officer"])
        if data["filter_bucket"]:
            scope = scope.filter(BUCKETS_BY_CODE[data["filter_bucket"]].due_date_q(lender_today()))
        return scope
    ids = sorted(set(data["accounts"]))
    chosen = scope.filter(pk__in=ids)
    if chosen.count() != len(ids):
        in_team_scope(request, "loanaccount", ",".join(map(str, ids)), _no_account)
    return chosen


def _no_account() -> None:
    raise Http404("An account is not in your team.")


@role_required(TEAM_LEAD)
@require_POST
def reassign(request: HttpRequest) -> HttpResponse:
    """Move the chosen accounts (or all matching the list's filter) to an officer of the team; 303 to the list."""
    officers = list(team_officers_for_lead(request.user))
    form = ReassignForm(request.POST)
    if form.is_valid():
        officer = next((o for o in officers if o.username == form.cleaned_data["officer"]), None)
        if officer is None:
            form.add_error("officer", _("Choose a case officer of your team."))
        else:
            chosen = _reassign_accounts(request, form)
            try:
                moved = team_accounts_reassign(lead=request.user, accounts=chosen, officer=officer)
            except ValidationError as error:
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d account reassigned to %(officer)s.",
                        "%(count)d accounts reassigned to %(officer)s.",
                        moved,
                    )
                    % {"count": moved, "officer": officer.username},
                )
                response = redirect(f"{reverse('team:accounts')}?{urlencode({'officer': officer.username})}")
                response.status_code = 303
                return response
    return render(request, "collections_app/team/reassign.html", {"form": form, "officers": officers})
