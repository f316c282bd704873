"""Every form and every query parameter, for every role: arbitrary text, numbers, dates and bytes never answer a
500, a GET never writes, and a POST that is refused (anything but a redirect) writes nothing.

The targets are found, not listed: each role opens every page of the URL configuration (as the IDOR sweep
does), and every form those pages show, with its field names and the values its choices offer, becomes a
target; each page's own URL takes the page's query parameters. A form or query parameter added later is
fuzzed without editing this file.
"""

import datetime
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import get_resolver
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from access.models import AccessChange
from collections_app.dpd import lender_today
from collections_app.models import LoanAccount, Payment, PromiseToPay
from tests.conftest import signed_in
from tests.factories import make_account, make_plan
from tests.security.routes import build, walk_routes
from tests.security.test_idor_sweep import NOT_WALKED, World, admin_pages, own_values, world  # noqa: F401 - `world` is a fixture

pytestmark = pytest.mark.django_db

FUZZ = hypothesis_settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Query parameters some page reads though no form on it names them (pagination links, keyset cursors).
QUERY_PARAMETERS = ("page", "before", "from", "to", "next", "account", "q", "portfolio", "bucket")
# The apps whose rows a refused request must leave alone (the audit log records refusals by design; sessions,
# sign-in attempts and second-factor devices are the sign-in's own business).
DOMAIN_APPS = ("collections_app", "review", "access")


@dataclass
class Target:
    """One form (or a page's query string): where it goes, how, and the values each field offers."""

    method: str
    url: str
    fields: dict[str, set[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.url} {sorted(self.fields)}"


class _Forms(HTMLParser):
    """The forms of a page: action, method, and each named field with the values the page offers for it."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Target] = []
        self.query_names: set[str] = set()
        self._form: Target | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urllib.parse.urljoin(self.page_url, values.get("action") or self.page_url)
            self._form = Target(values.get("method", "get").upper(), urllib.parse.urlsplit(action).path)
            self.forms.append(self._form)
        elif tag == "a" and values.get("href", "").startswith("?"):
            self.query_names |= set(urllib.parse.parse_qs(values["href"][1:], keep_blank_values=True))
        elif self._form is not None and tag in ("input", "select", "textarea", "button") and values.get("name"):
            offered = self._form.fields.setdefault(values["name"], set())
            if values.get("value"):
                offered.add(values["value"])
            self._select = values["name"] if tag == "select" else None
        elif tag == "option" and self._form is not None and self._select is not None:
            offered = self._form.fields[self._select]
            offered.add(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _pages(people: World) -> list[str]:
    """Every non-admin page with the ids of objects the users may reach."""
    routes = [r for r in walk_routes(get_resolver().url_patterns) if not r.template.startswith("admin/")]
    value_sets = own_values(people)
    return sorted({build(r, values) for r in routes if r.template not in NOT_WALKED for values in value_sets})


def discover(client: Client, pages: list[str]) -> list[Target]:
    """The forms and query strings of every page `client` can open."""
    targets: dict[tuple[str, str], Target] = {}
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        parser = _Forms(url)
        if "html" in response.get("Content-Type", ""):
            parser.feed(response.content.decode())
        query = targets.setdefault(("GET", url), Target("GET", url))
        for name in (*QUERY_PARAMETERS, *parser.query_names):
            query.fields.setdefault(name, set())
        for form in parser.forms:
            if form.url == "/accounts/logout/":
                continue
            target = targets.setdefault((form.method, form.url), Target(form.method, form.url))
            for name, offered in form.fields.items():
                if name != "csrfmiddlewaretoken":  # the test client does not check it
                    target.fields.setdefault(name, set()).update(offered)
    return list(targets.values())


def _domain_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for app in DOMAIN_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.managed and not model._meta.proxy
    )


def domain_state() -> tuple[str, ...]:
    """A digest of every row of the domain apps, in one query, to compare before and after a request."""
    digests = ", ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} AS t)"  # noqa: S608
        for table in _domain_tables()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {digests}")  # table names from the models, no input
        return cursor.fetchone()


TODAY = lender_today()
HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "2",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "9" * 5000,
    "1e400",
    "NaN",
    "Infinity",
    "-0.00",
    "0.001",
    "99999999999999.99",
    "1" * 30,
    "9999-12-31",
    "0001-01-01",
    "1999-12-31",
    "2000-01-01",
    "2026-02-30",
    TODAY.isoformat(),
    (TODAY + datetime.timedelta(days=1)).isoformat(),
    (TODAY + datetime.timedelta(days=2)).isoformat(),
    "９９９９-１２-３１",
    "١٢٣",
    "²",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "borrower:1",
    "contact.1.name",
    "x" * 3000,
]
RAW = st.one_of(
    st.sampled_from(HOSTILE).map(str.encode),
    st.text(max_size=40).map(str.encode),
    st.dates().map(lambda day: day.isoformat().encode()),
    st.integers().map(lambda number: str(number).encode()),
    # Bytes that are not UTF-8, a NUL, and the UTF-8 of a lone surrogate (%ED%A0%80) arrive percent-encoded.
    st.binary(max_size=12),
    st.sampled_from([b"\x00", b"\xed\xa0\x80", b"\xff\xfe", b"%"]),
)


def values_for(target: Target) -> st.SearchStrategy[dict[str, list[bytes]]]:
    """Some of the target's fields, each with a value offered by the page or a hostile one, sometimes twice."""
    names = sorted(target.fields)

    def value(name: str) -> st.SearchStrategy[bytes]:
        offered = sorted(target.fields[name])
        return st.one_of(st.sampled_from(offered).map(str.encode), RAW) if offered else RAW

    return st.fixed_dictionaries({}, optional={name: st.lists(value(name), min_size=1, max_size=2) for name in names})


def encoded(values: dict[str, list[bytes]]) -> str:
    """The values as a query string or form body, each byte percent-encoded as a browser would."""
    return "&".join(
        f"{urllib.parse.quote(name)}={urllib.parse.quote_from_bytes(value)}"
        for name, items in values.items()
        for value in items
    )


def send(client: Client, target: Target, values: dict[str, list[bytes]]) -> int:
    """The status of one request to `target` with `values`."""
    if target.method == "GET":
        response = client.get(target.url, QUERY_STRING=encoded(values))
    else:
        response = client.post(
            target.url, data=encoded(values).encode(), content_type="application/x-www-form-urlencoded"
        )
    return response.status_code


@st.composite
def requests(draw: st.DrawFn, targets: list[Target]) -> tuple[Target, dict[str, list[bytes]]]:
    target = draw(st.sampled_from(targets))
    return target, draw(values_for(target))


def sweep(client: Client, targets: list[Target]) -> None:
    """The property each role's test asserts, drawn over its targets."""
    assert targets, "the walk found no form or page to fuzz"

    @FUZZ
    @given(request=requests(targets))
    def run(request: tuple[Target, dict[str, list[bytes]]]) -> None:
        target, values = request
        before = domain_state()
        status = send(client, target, values)
        assert status < 500, f"{status} for {target} with {values}"
        if target.method == "GET" or status not in (302, 303):
            assert domain_state() == before, f"{target} answered {status} but wrote, with {values}"

    run()


# Per role: whom to sign in (None: nobody) and forms the walk must find, so that a broken walk fails loudly.
ROLES = {
    "officer": ("alice", {"POST /cases/1/promises/new/": "promised_date", "GET /cases/": "bucket"}),
    "approver": ("carol", {"GET /review/": "age"}),
    "auditor": ("dave", {"GET /audit/": "to"}),
    "superuser": ("root", {"POST /access/changes/new/": "change"}),
    # The admin site's own forms: the superuser's changelists, add forms and change forms.
    "admin site": ("root", {"POST /admin/collections_app/policyversion/": "promise_horizon_days"}),
    "anonymous": (None, {"POST /accounts/login/": "password"}),
}


@pytest.mark.postgresql_only
@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_form_or_query_parameter_answers_500_or_writes_when_refused(world, role: str) -> None:  # noqa: F811
    username, expected = ROLES[role]
    user = {person.username: person for person in (world.alice, world.carol, world.dave, world.root)}.get(username)
    client = signed_in(user) if user else Client()
    pages = admin_pages() if role == "admin site" else _pages(world)
    targets = discover(client, pages)
    found = {f"{target.method} {target.url}": target.fields for target in targets}
    for where, name in expected.items():
        where = where.replace("/1/", f"/{world.own.account.pk}/")
        assert any(url.startswith(where) and name in fields for url, fields in found.items()), sorted(found)
    sweep(client, targets)


@pytest.mark.postgresql_only
def test_every_page_of_every_role_opens_with_dates_stored_at_the_ends_of_the_calendar(world) -> None:  # noqa: F811
    """Rows an earlier release, the admin or SQL may have left: a promise dated 9999-12-31, due dates at both ends
    of the calendar, a plan instalment and payments there too. No page answers 500 over them."""
    account = world.own.account
    PromiseToPay.objects.create(account=account, promised_date=datetime.date.max, amount=1, created_by=world.alice)
    # On an account of its own: the account's history already holds its one open plan.
    planned = make_account(world.alice, portfolio=account.portfolio, account_number="EDGE-PLAN")
    make_plan(planned, world.alice, instalments=[(datetime.date.max, Decimal(1))])
    for number, due in enumerate((datetime.date.min, datetime.date.max)):
        extreme = make_account(world.alice, portfolio=account.portfolio, account_number=f"EDGE-{number}")
        LoanAccount.objects.filter(pk=extreme.pk).update(oldest_unpaid_due_date=due)
        edge = datetime.datetime.combine(due, datetime.time(12), tzinfo=datetime.UTC)
        Payment.objects.create(account=extreme, paid_at=edge, amount=1, reference=f"EDGE-PAY-{number}")
    pages = _pages(world) + [
        f"/cases/{pk}/"
        for pk in LoanAccount.objects.filter(account_number__startswith="EDGE").values_list("pk", flat=True)
    ]
    for user in (world.alice, world.carol, world.dave, world.root):
        client = signed_in(user)
        for url in pages:
            assert client.get(url).status_code < 500, f"{user.username} GET {url}"


# --- the 500s the sweep found, each pinned by name --------------------------------------------------------------


def test_the_language_switch_redirects_to_a_bare_word_next_as_a_path_instead_of_answering_500(officer) -> None:
    response = signed_in(officer).post("/language/", {"language": "en", "next": "0"})
    assert (response.status_code, response["Location"]) == (302, "0")


def test_an_access_change_naming_a_team_by_a_superscript_digit_is_a_field_error_not_a_500(admin_user) -> None:
    response = signed_in(admin_user).post(
        "/access/changes/new/", {"user": admin_user.username, "change": "add_to_team", "team": "²"}
    )
    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not AccessChange.objects.exists()
