"""Every page, every role: a page that shows personal data leaves exactly one audit event naming the person.

The walk reads the URL configuration itself. Each non-admin route must be classified below (a new route fails
`test_every_url_pattern_is_classified` until it is); admin routes are classified by their suffix. Canary personal
values are seeded, and the final check searches every audit event (every column, including the sealed entry
bytes when present) for them.
"""

import json
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from access.models import Team
from access.roles import TEAM_LEAD
from audit.models import AuditEvent, ChainEntry
from audit.record import person_key
from audit.services import audit_chain_seal
from collections_app.masking import mask_id_number, mask_name, mask_phone
from collections_app.messaging.inbound import inbound_reply_record
from collections_app.models import Borrower, Contact, DataSubjectRequest, InboundReply, Message, RepaymentPlan
from collections_app.services.privacy import privacy_request_file
from review.models import FamilyContactRequest
from review.services import approver_portfolio_grant
from tests.audit.helpers import assert_no_personal_values, audit_mark, events_since
from tests.conftest import signed_in
from tests.factories import make_account, make_borrower, make_contact, make_plan, make_portfolio, make_user
from tests.review.conftest import Case, add_failed_attempts, file_request, make_family_template
from tests.security.routes import Route, build, walk_routes

pytestmark = pytest.mark.django_db

# Distinctive values: none of them, full or masked, can appear on a page by chance.
BORROWER_NAME = "鼹鼷廿卅"
BORROWER_PHONE = "+8613971829364"
BORROWER_ID = "11010519491231002X"
CONTACT_NAME = "鸊鷉丙丁"
CONTACT_PHONE = "+8615862937415"

# What reading a page may leave: the one event the page writes.
READ_ACTIONS = ("view", "list", "export")

# Every non-admin route: "personal" pages show personal data to the role that may open them (and must then be
# audited); "plain" pages show none; anything else is skipped for the reason given.
ROUTES: dict[str, str] = {
    "": "plain",
    "healthz": "plain",
    "readyz": "plain",
    "language/": "skip: POST-only language switch",
    "accounts/login/": "plain",
    "accounts/mfa/": "plain",
    "accounts/mfa/enrol/": "plain",
    "accounts/security/recovery-codes/": "plain",
    "accounts/logout/": "skip: signs the user out",
    "cases/": "personal",
    "cases/<int:account_id>/": "personal",
    "cases/<int:account_id>/reveal/": "skip: POST-only, walked by test_reveal_leaves_exactly_one_reveal_event",
    "cases/<int:account_id>/interactions/new/": "plain",
    "cases/<int:account_id>/promises/new/": "plain",
    "cases/<int:account_id>/flags/new/": "plain",
    "cases/<int:account_id>/communication/": "plain",
    "cases/<int:account_id>/flags/<int:flag_id>/close/": "plain",
    "cases/<int:account_id>/borrower-flags/new/": "plain",
    "cases/<int:account_id>/borrower-flags/<int:flag_id>/clear/": "plain",
    "cases/<int:account_id>/call-tasks/<int:task_id>/close/": "skip: POST-only, as the withdraw and decide routes",
    "cases/<int:account_id>/replies/<int:reply_id>/read/": "skip: POST-only",
    "cases/<int:account_id>/family-contact/new/": "personal",
    "cases/<int:account_id>/family-contact/<int:request_id>/": "personal",
    "cases/<int:account_id>/family-contact/<int:request_id>/withdraw/": "skip: POST-only",
    "review/": "personal",
    "review/<int:request_id>/": "personal",
    "review/<int:request_id>/decide/": "skip: POST-only",
    "review/templates/": "plain",
    "review/templates/<int:version_id>/decide/": "skip: POST-only",
    "review/policies/": "plain",
    "review/policies/new/": "plain",
    "review/policies/<int:proposal_id>/dry-run/": "plain",
    "review/policies/<int:proposal_id>/decide/": "skip: POST-only",
    "audit/": "audited",
    "audit/export.csv": "audited",
    "audit/exceptions/": "audited",
    "audit/exceptions.csv": "audited",
    "audit/verify/": "plain",
    "audit/verify/start/": "skip: POST-only, walked by tests/audit/test_verification_page.py",
    "audit/holds/": "audited",
    "audit/holds/lift/": "skip: POST-only, walked by tests/audit/test_legal_holds.py",
    "audit/archives/": "audited",
    "audit/archives/decide/": "skip: POST-only, walked by tests/audit/test_detach.py",
    "audit/person/(?P<kind>borrower|contact)/(?P<person_id>[0-9]+)/": "audited",
    "audit/person/(?P<kind>borrower|contact)/(?P<person_id>[0-9]+)\\.csv": "audited",
    "inbox/compliance/": "audited",
    "inbox/compliance/<int:reply_id>/read/": "skip: POST-only",
    "hooks/gateway/inbound/": "skip: gateway webhook (POST, signed)",
    "hooks/gateway/receipt/": "skip: gateway webhook (POST, signed)",
    "admin/login/": "skip: redirects to the one sign-in",
    "access/changes/": "plain",
    "access/changes/new/": "skip: POST-only, as the decide routes",
    "access/changes/<int:change_id>/decide/": "skip: POST-only",
    "access/password/<uidb64>/<token>/": "plain",
    "access/password/done/": "plain",
    "cases/<int:account_id>/plans/new/": "plain",
    "cases/<int:account_id>/plans/<int:plan_id>/withdraw/": "skip: POST-only",
    "team/": "plain",
    "team/export.csv": "audited",
    "team/accounts/": "personal",
    "team/accounts/<int:account_id>/": "personal",
    "team/reassign/": "skip: POST-only",
    "team/plans/<int:plan_id>/": "personal",
    "team/plans/<int:plan_id>/decide/": "skip: POST-only",
    "complaints/": "audited",
    "complaints/new/": "skip: needs ?account=; its view event is checked in tests/collections_app/test_complaints.py",
    "complaints/<int:complaint_id>/advance/": "skip: POST-only",
    "privacy/requests/": "audited",
    "privacy/requests/new/": "skip: needs ?account=; its view event is checked in "
    "tests/collections_app/test_privacy_requests.py",
    "privacy/requests/<int:privacy_request_id>/": "audited",
    "privacy/requests/<int:privacy_request_id>/decide/": "skip: POST-only",
    "privacy/requests/<int:privacy_request_id>/access-file/": "skip: a reveal, not a read (purpose "
    "data_subject_access), walked by tests/collections_app/test_privacy_access_file.py",
}
# Admin routes by their shape: every model's changelist and pages, walked for the superuser.
ADMIN_SHAPES = {
    r"admin/": "plain",
    r"admin/[a-z_]+/[a-z_]+/": "admin list",
    r"admin/[a-z_]+/[a-z_]+/add/": "admin page",
    r"admin/[a-z_]+/[a-z_]+/<path:object_id>/": "admin page",
    r"admin/[a-z_]+/[a-z_]+/<path:object_id>/change/": "admin page",
    r"admin/[a-z_]+/[a-z_]+/<path:object_id>/history/": "admin page",
    r"admin/[a-z_]+/[a-z_]+/<path:object_id>/delete/": "admin page",
    r"admin/[a-z_]+/[a-z_]+/<id>/password/": "admin page",
    r"admin/autocomplete/": "skip: JSON for autocomplete widgets, needs field parameters",
    r"admin/jsi18n/": "plain",
    r"admin/logout/": "skip: signs the user out",
    r"admin/password_change/": "plain",
    r"admin/password_change/done/": "plain",
    r"admin/r/<path:content_type_id>/<path:object_id>/": "skip: view-on-site redirect",
    r"admin/\(\?P<app_label>[^)]*\)/": "plain",
    r"admin/\(\?P<url>\.\*\)": "skip: catch-all redirect",
}
# Pages known to show the canary people's (masked) data: proof that the marker search finds them.
SHOWN_SOMEWHERE = {
    "cases/",
    "cases/<int:account_id>/",
    "inbox/compliance/",
    "review/<int:request_id>/",
    "admin/collections_app/borrower/",
    "admin/collections_app/borrower/<path:object_id>/change/",
    "admin/collections_app/contact/<path:object_id>/change/",
}


@dataclass
class World:
    """One officer's eligible case of the canary borrower, a filed request, a message, in the approver's portfolio."""

    users: list[User]
    borrower: Borrower
    contact: Contact
    case: Case
    request: FamilyContactRequest
    message: Message
    plan: RepaymentPlan
    privacy_request: DataSubjectRequest

    def markers(self) -> dict[str, list[str]]:
        """Every form in which a page could show each canary person's data, by audit person id."""
        return {
            person_key("borrower", self.borrower.pk): [
                BORROWER_NAME,
                BORROWER_PHONE,
                BORROWER_PHONE.removeprefix("+86"),
                BORROWER_ID,
                mask_name(BORROWER_NAME),
                mask_phone(BORROWER_PHONE),
                mask_id_number(BORROWER_ID),
            ],
            person_key("contact", self.contact.pk): [
                CONTACT_NAME,
                CONTACT_PHONE,
                CONTACT_PHONE.removeprefix("+86"),
                mask_name(CONTACT_NAME),
                mask_phone(CONTACT_PHONE),
            ],
        }

    def canaries(self) -> list[str]:
        """The values no audit event may hold: full, masked and partial."""
        values = [value for markers in self.markers().values() for value in markers]
        return values + [CONTACT_PHONE[-8:], BORROWER_PHONE[-8:], BORROWER_ID[-8:]]

    def values(self, route: Route, model: str = "") -> dict[str, str]:
        """Parameters naming the in-scope objects; the admin's object id is the instance of the route's model."""
        instances = {
            "borrower": self.borrower.pk,
            "contact": self.contact.pk,
            "loanaccount": self.case.account.pk,
            "familycontactrequest": self.request.pk,
            "message": self.message.pk,
        }
        object_id = instances.get(model)
        if object_id is None and model:
            object_id = _first_pk(route)
        return {
            "account_id": str(self.case.account.pk),
            "request_id": str(self.request.pk),
            "plan_id": str(self.plan.pk),
            "privacy_request_id": str(self.privacy_request.pk),
            "flag_id": "0",
            "version_id": "0",
            "proposal_id": "0",
            "kind": "borrower",
            "person_id": str(self.borrower.pk),
            "object_id": str(object_id or 0),
            "id": str(object_id or 0),
            "app_label": "collections_app",
            # A password-reset link that is not valid: the page shows the refusal.
            "uidb64": "MQ",
            "token": "not-a-token",
        }


def _admin_model(route: Route) -> str:
    match = re.match(r"admin/([a-z_]+)/([a-z_]+)/", route.template)
    return match[2] if match else ""


def _first_pk(route: Route) -> int | None:
    """Any row of the admin route's model, so that its change page renders something."""
    from django.contrib import admin

    app_model = re.match(r"admin/([a-z_]+)/([a-z_]+)/", route.template)
    for model in admin.site._registry:
        if (model._meta.app_label, model._meta.model_name) == (app_model[1], app_model[2]):
            return model.objects.order_by("pk").values_list("pk", flat=True).first()
    return None


@pytest.fixture
def world(officer: User, approver: User, auditor: User, admin_user: User) -> World:
    lead = make_user("lena", TEAM_LEAD)
    Team.objects.create(name="walk", lead=lead).members.add(officer)
    portfolio = make_portfolio("walk")
    borrower = make_borrower(name=BORROWER_NAME, phone=BORROWER_PHONE, id_number=BORROWER_ID)
    account = make_account(officer, dpd=45, portfolio=portfolio, borrower=borrower)
    contact = make_contact(borrower, name=CONTACT_NAME, phone=CONTACT_PHONE)
    add_failed_attempts(account, officer)
    case = Case(account=account, contact=contact, template=make_family_template())
    approver_portfolio_grant(user=approver, portfolio=portfolio)
    request = file_request(officer, case)
    message = Message.objects.create(
        borrower=borrower,
        account=account,
        audience=Message.Audience.BORROWER,
        channel=Message.Channel.SMS,
        recipient=BORROWER_PHONE,
        body="您的账单已到期，请及时还款。",
        idempotency_key=f"walk-{account.pk}",
    )
    # A reply from the contact's number on the account's inbox, and one the compliance inbox holds because the
    # number matched several borrowers when it came in.
    inbound_reply_record(phone=CONTACT_PHONE, text="他出差了", received_at=timezone.now())
    InboundReply.objects.create(
        phone=CONTACT_PHONE,
        text="这个号码是谁的？",
        received_at=timezone.now(),
        matched_borrowers=2,
        compliance=True,
        persons=[person_key("borrower", borrower.pk), person_key("contact", contact.pk)],
    )
    plan = make_plan(account, officer, status=RepaymentPlan.Status.PROPOSED, instalments=[])
    # The contact's correction: its page shows the new name masked (and names the contact in its view event).
    privacy_request = privacy_request_file(
        account=account,
        actor=officer,
        role="case_officer",
        subject=f"contact:{contact.pk}",
        kind="correction",
        text="我的名字登记错了。",
        correction={"contact.name": CONTACT_NAME},
    )
    return World(
        users=[officer, approver, auditor, admin_user, lead],
        borrower=borrower,
        contact=contact,
        case=case,
        request=request,
        message=message,
        plan=plan,
        privacy_request=privacy_request,
    )


def classify(route: Route) -> str | None:
    """The route's class, or None when nobody has classified it yet."""
    if route.template in ROUTES:
        return ROUTES[route.template]
    if route.template.startswith("admin/"):
        for shape, kind in ADMIN_SHAPES.items():
            if re.fullmatch(shape, route.template):
                return kind
    return None


def all_routes() -> list[Route]:
    from django.urls import get_resolver

    return list(walk_routes(get_resolver().url_patterns))


def test_every_url_pattern_is_classified() -> None:
    """A new URL must be classified here (personal, audited, plain or skip with a reason) before the walk judges it."""
    unknown = [route.template for route in all_routes() if classify(route) is None]
    assert all_routes(), "the walk found no URL pattern"
    assert unknown == [], f"classify these URL patterns in ROUTES/ADMIN_SHAPES of {__name__}: {unknown}"


def _shown(body: str, world: World) -> set[str]:
    """The canary persons whose data, in any form, is on the page."""
    # JSON answers escape non-ASCII characters: look for the escaped forms too.
    return {
        person
        for person, markers in world.markers().items()
        if any(marker in body or json.dumps(marker)[1:-1] in body for marker in markers)
    }


def _check_page(client: Client, user: User, url: str, kind: str, world: World) -> tuple[int, set[str], list[str]]:
    """GET one page; (its status, the canary persons it showed, the problems found)."""
    mark = audit_mark()
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8", errors="replace")
    label = f"{user.username} GET {url} ({kind})"
    problems: list[str] = []
    reads = events_since(mark, action__in=READ_ACTIONS)
    shown = _shown(text, world) if response.status_code == 200 else set()
    if response.status_code == 200 and (shown or kind in ("personal", "audited")):
        named = set(reads[0].persons) if len(reads) == 1 else set()
        if len(reads) != 1:
            actions = [(event.action, event.object_type) for event in reads]
            problems.append(f"{label}: shows {sorted(shown)} but left {len(reads)} read events {actions}, not 1")
        elif shown - named:
            problems.append(
                f"{label}: shows {sorted(shown - named)} but its {reads[0].action} event does not name them"
            )
        elif kind == "personal" and not named & set(world.markers()):
            problems.append(f"{label}: personal page whose {reads[0].action} event names no canary person: {named}")
    if kind == "plain" and shown:
        problems.append(f"{label}: classified plain but shows {sorted(shown)}")
    return response.status_code, shown, problems


@pytest.mark.usefixtures("audit_keys")
def test_every_page_showing_personal_data_leaves_exactly_one_event_naming_the_person(world: World) -> None:
    problems: list[str] = []
    opened: set[str] = set()
    showing: set[str] = set()
    walked = 0
    for user in world.users:
        client = signed_in(user)
        for route in all_routes():
            kind = classify(route)
            if kind is None or kind.startswith("skip"):
                continue
            if route.template.startswith("admin/") and not user.is_superuser:
                continue
            url = build(route, world.values(route, _admin_model(route)))
            status, shown, found = _check_page(client, user, url, kind, world)
            walked += 1
            problems += found
            if status == 200:
                opened.add(route.template)
            if shown:
                showing.add(route.template)
    # The walk proves something only if the personal-data pages did open, with the canary people, for some role.
    never_opened = [t for t, kind in ROUTES.items() if kind in ("personal", "audited") and t not in opened]
    assert walked > 50
    assert never_opened == [], f"personal-data pages that no role could open: {never_opened}"
    # ...and the marker search found the canary people where the pages are known to show them (masked).
    assert SHOWN_SOMEWHERE <= showing, f"canary data not found on {sorted(SHOWN_SOMEWHERE - showing)}"
    assert problems == [], "\n".join(problems)
    assert_no_audit_row_holds(world)


@pytest.mark.usefixtures("audit_keys")
def test_reveal_leaves_exactly_one_reveal_event_naming_the_person(world: World, officer: User) -> None:
    client = signed_in(officer)
    url = f"/cases/{world.case.account.pk}/reveal/"
    fields = {
        "borrower.name": (BORROWER_NAME, person_key("borrower", world.borrower.pk)),
        "borrower.phone": (BORROWER_PHONE, person_key("borrower", world.borrower.pk)),
        "borrower.id_number": (BORROWER_ID, person_key("borrower", world.borrower.pk)),
        f"contact.{world.contact.pk}.name": (CONTACT_NAME, person_key("contact", world.contact.pk)),
        f"contact.{world.contact.pk}.phone": (CONTACT_PHONE, person_key("contact", world.contact.pk)),
    }
    for field, (value, person) in fields.items():
        mark = audit_mark()
        response = client.post(url, {"field": field, "purpose": _a_purpose(field)})
        assert response.status_code == 200, field
        assert response.json()["value"] == value, field
        events = events_since(mark)
        assert [event.action for event in events] == ["reveal"], field
        assert person in events[0].persons
    assert_no_audit_row_holds(world)


def _a_purpose(field: str) -> str:
    """A purpose the default profile allows for this field (each field has its own purposes)."""
    from collections_app.account_rules import DEFAULT_REVEAL_PURPOSES, reveal_target_parse

    return sorted(DEFAULT_REVEAL_PURPOSES[reveal_target_parse(field).kind])[0]


def assert_no_audit_row_holds(world: World) -> None:
    """No event, through the model or as raw column text (the sealed entry bytes included), holds a canary value."""
    # Seal first, so that every event's canonical entry bytes exist and are searched too.
    audit_chain_seal()
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    events = list(AuditEvent.objects.all())
    assert events
    assert_no_personal_values(events, world.canaries())
    for model in (AuditEvent, ChainEntry):
        columns = [field.column for field in model._meta.concrete_fields]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(columns)} FROM {model._meta.db_table}")  # noqa: S608 - model columns
            rows = cursor.fetchall()
        assert rows
        _assert_no_canary_in_columns(world, columns, rows)


def _assert_no_canary_in_columns(world: World, columns: list[str], rows: list[tuple]) -> None:
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            raw = bytes(value) if isinstance(value, memoryview | bytes) else str(value).encode()
            # Raw UTF-8, or escaped as JSON encoders write non-ASCII characters.
            forms = {canary: (canary.encode(), json.dumps(canary)[1:-1].encode()) for canary in world.canaries()}
            leaked = [canary for canary, encoded in forms.items() if any(form in raw for form in encoded)]
            assert not leaked, f"audit column {column} holds {leaked}"
