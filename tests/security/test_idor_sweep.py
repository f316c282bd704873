"""IDOR sweep: every URL that takes an object id, for every role, against objects outside the user's reach.

The sweep walks the URL configuration itself, so a URL added later is covered without editing this file. A new
URL namespace or id parameter fails `test_every_object_url_is_classified` until it is given its role below.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.urls import get_resolver
from django.utils import timezone

from access.models import Team
from access.roles import CASE_OFFICER, COMPLIANCE_AUDITOR, RISK_APPROVER, TEAM_LEAD
from audit.models import AuditEvent
from collections_app.dpd import lender_today
from collections_app.masking import mask_name, mask_phone
from collections_app.messaging.inbound import inbound_reply_record
from collections_app.models import (
    Borrower,
    CallTask,
    Complaint,
    Contact,
    DataSubjectRequest,
    Flag,
    InboundReply,
    PolicyVersion,
    RepaymentPlan,
)
from collections_app.services.complaints import complaint_file
from collections_app.services.privacy import privacy_request_decide, privacy_request_file
from review.models import FamilyContactRequest
from review.services import approver_portfolio_grant, family_contact_request_submit
from tests.conftest import signed_in
from tests.factories import make_account, make_borrower, make_contact, make_plan, make_portfolio, make_user
from tests.review.conftest import Case, add_failed_attempts, file_request, make_family_template
from tests.security.routes import Route, build, walk_routes

pytestmark = pytest.mark.django_db

# The role each URL namespace requires; `scoped` says whether holding the role still leaves objects out of reach.
# Not a role: what NAMESPACE_ROLES names for pages that only an active superuser may open.
SUPERUSER = "superuser"
NAMESPACE_ROLES: dict[str, tuple[str, bool]] = {
    "collections": (CASE_OFFICER, True),
    "review_officer": (CASE_OFFICER, True),
    "review": (RISK_APPROVER, True),
    # An auditor may look up anyone's access report: there is no object outside an auditor's reach.
    "audit": (COMPLIANCE_AUDITOR, False),
    # Access changes are for superusers (who hold no role): every other user is refused, superusers see them all.
    "access": (SUPERUSER, False),
    # The compliance inbox holds only the replies no caseload shows: an account's reply is out of an auditor's reach.
    "inbox": (COMPLIANCE_AUDITOR, True),
    # An officer proposes and withdraws plans on their own accounts only.
    "plans": (CASE_OFFICER, True),
    # A team lead reaches only the accounts and plans of their team's officers.
    "team": (TEAM_LEAD, True),
    # An officer files and moves complaints about the accounts of their own caseload only.
    "complaints": (CASE_OFFICER, True),
    # Data-subject requests are decided by auditors, who reach every request (officers file them from the
    # account page, `new/?account=`, which names no object in its path).
    "privacy": (COMPLIANCE_AUDITOR, False),
}
ID_PARAMETERS = {
    "account_id",
    "request_id",
    "flag_id",
    "task_id",
    "person_id",
    "object_id",
    "change_id",
    "reply_id",
    "version_id",
    "proposal_id",
    "plan_id",
    "complaint_id",
    "privacy_request_id",
}

CANARY_NAME = "金丝雀甲"
CANARY_PHONE = "+8613912345678"
CANARY_ID = "11010519491231002X"
CANARY_CONTACT_NAME = "金丝雀乙"
CANARY_CONTACT_PHONE = "+8613987654321"
CANARY_ACCOUNT = "CANARY-ACC-0001"
CANARY_JUSTIFICATION = "Canary justification: five unanswered calls, canary-7f3e."
CANARY_COMPLAINT = "Canary complaint: they called my mother, canary-c0m9."
CANARY_PRIVACY = "Canary request: why do you have my number? canary-p1v4."


# URLs whose parameters are a capability rather than an object id: the password-reset link (uid and token) opens
# for whoever holds a valid token, signed in or not (tests/access/test_credential_reset.py).
CAPABILITY_PARAMETERS = {"uidb64", "token"}
# Their parameters in the page walks: a link that is not valid, whose page shows the refusal.
NO_VALID_LINK = {"uidb64": "MQ", "token": "not-a-token"}


def object_routes() -> list[Route]:
    """Every URL pattern that takes an object id, outside Django's admin (swept separately)."""
    return [
        r
        for r in walk_routes(get_resolver().url_patterns)
        if r.parameters and not r.template.startswith("admin/") and not set(r.parameters) & CAPABILITY_PARAMETERS
    ]


def admin_object_routes() -> list[Route]:
    routes = walk_routes(get_resolver().url_patterns)
    return [r for r in routes if r.template.startswith("admin/") and r.parameters == ("object_id",)]


@dataclass
class World:
    """Alice and Bob each work their own accounts in their own portfolios; Carol reviews Alice's portfolio only."""

    alice: User
    bob: User
    carol: User
    dave: User
    root: User
    nobody: User
    own: Case
    own_request: FamilyContactRequest
    foreign: Case
    foreign_request: FamilyContactRequest
    foreign_flag: Flag
    foreign_task: CallTask
    foreign_reply: InboundReply
    foreign_plan: RepaymentPlan
    foreign_complaint: Complaint
    foreign_privacy_request: DataSubjectRequest
    lena: User


@pytest.fixture
def world(officer: User, other_officer: User, approver: User, auditor: User, admin_user: User) -> World:
    template = make_family_template()
    north, south = make_portfolio("north"), make_portfolio("south")
    own_account = make_account(officer, dpd=45, portfolio=north)
    own = Case(account=own_account, contact=make_contact(own_account.borrower), template=template)
    add_failed_attempts(own_account, officer)
    borrower = make_borrower(name=CANARY_NAME, phone=CANARY_PHONE, id_number=CANARY_ID)
    foreign_account = make_account(
        other_officer, dpd=45, portfolio=south, borrower=borrower, account_number=CANARY_ACCOUNT
    )
    foreign = Case(
        account=foreign_account,
        contact=make_contact(borrower, name=CANARY_CONTACT_NAME, phone=CANARY_CONTACT_PHONE),
        template=template,
    )
    add_failed_attempts(foreign_account, other_officer)
    approver_portfolio_grant(user=approver, portfolio=north)
    foreign_request = family_contact_request_submit(
        account=foreign.account,
        contact=foreign.contact,
        template=template,
        justification=CANARY_JUSTIFICATION,
        requested_by=other_officer,
    )
    # Opened after filing: an open dispute would have made the request ineligible.
    foreign_flag = Flag.objects.create(
        account=foreign_account,
        kind=Flag.Kind.DISPUTE,
        opened_reason="canary dispute",
        opened_by=other_officer,
        opened_at=timezone.now(),
    )
    foreign_task = CallTask.objects.create(
        account=foreign_account,
        officer=other_officer,
        due_date=lender_today(),
        dpd=45,
        policy_version=PolicyVersion.objects.filter(profile=south.policy_profile).latest("version"),
    )
    # A reply from Bob's borrower, in the inbox of Bob's account.
    foreign_reply = inbound_reply_record(phone=CANARY_PHONE, text="canary reply", received_at=timezone.now())
    foreign_plan = make_plan(foreign_account, other_officer, status=RepaymentPlan.Status.PROPOSED, instalments=[])
    foreign_complaint = complaint_file(
        account=foreign_account,
        officer=other_officer,
        complainant=f"contact:{foreign.contact.pk}",
        channel="phone",
        category="conduct",
        text=CANARY_COMPLAINT,
    )
    # A fulfilled access request of Bob's contact: its file holds the contact's full values.
    foreign_privacy_request = privacy_request_file(
        account=foreign_account,
        actor=other_officer,
        role=CASE_OFFICER,
        subject=f"contact:{foreign.contact.pk}",
        kind="access",
        text=CANARY_PRIVACY,
    )
    privacy_request_decide(request=foreign_privacy_request, auditor=auditor, decision="fulfil", reason="Verified.")
    # Lena leads a team of Alice alone: Bob's accounts and plans are outside her reach.
    lena = make_user("lena", TEAM_LEAD)
    Team.objects.create(name="north team", lead=lena).members.add(officer)
    return World(
        alice=officer,
        bob=other_officer,
        carol=approver,
        dave=auditor,
        root=admin_user,
        nobody=make_user("nobody"),
        own=own,
        own_request=file_request(officer, own),
        foreign=foreign,
        foreign_request=foreign_request,
        foreign_flag=foreign_flag,
        foreign_task=foreign_task,
        foreign_reply=foreign_reply,
        foreign_plan=foreign_plan,
        foreign_complaint=foreign_complaint,
        foreign_privacy_request=foreign_privacy_request,
        lena=lena,
    )


def foreign_values(world: World, route: Route) -> list[dict[str, str]]:
    """Parameter sets naming objects outside the user's reach (and own/foreign mixes that must not combine)."""
    account, request, flag = world.foreign.account, world.foreign_request, world.foreign_flag
    full = {
        "account_id": str(account.pk),
        "request_id": str(request.pk),
        "flag_id": str(flag.pk),
        "task_id": str(world.foreign_task.pk),
        "reply_id": str(world.foreign_reply.pk),
        "plan_id": str(world.foreign_plan.pk),
        "complaint_id": str(world.foreign_complaint.pk),
        "privacy_request_id": str(world.foreign_privacy_request.pk),
        "kind": "borrower",
        "person_id": str(account.borrower_id),
        "change_id": "1",
        # Template versions and policy proposals have no portfolio: for an approver only one that does not exist is
        # out of reach.
        "version_id": "0",
        "proposal_id": "0",
        **NO_VALID_LINK,
    }
    sets = [full]
    # Alice's own account with Bob's request, flag or call task: the pair must be checked together, not one by one.
    if "account_id" in route.parameters and len(route.parameters) > 1:
        sets.append(full | {"account_id": str(world.own.account.pk)})
    return sets


def canaries(world: World) -> list[str]:
    """Values of Bob's borrower that must not appear, raw or masked, in any answer to someone else."""
    values = [CANARY_NAME, CANARY_PHONE, CANARY_ID, CANARY_CONTACT_NAME, CANARY_CONTACT_PHONE, CANARY_JUSTIFICATION]
    values += [CANARY_COMPLAINT, CANARY_PRIVACY]
    values += [mask_name(CANARY_NAME), mask_phone(CANARY_PHONE), mask_phone(CANARY_CONTACT_PHONE), CANARY_ACCOUNT]
    values += ["canary dispute", "canary reply", CANARY_PHONE[3:]]
    return values


def users(world: World) -> list[User]:
    return [world.alice, world.carol, world.dave, world.root, world.nobody, world.lena]


def test_every_object_url_is_classified() -> None:
    """A new namespace or id parameter must be given its role here before the sweep can judge it."""
    unknown = [
        (route.template, route.namespace)
        for route in object_routes()
        if route.namespace not in NAMESPACE_ROLES or not set(route.parameters) - {"kind"} <= ID_PARAMETERS
    ]
    assert object_routes(), "the sweep found no URL with an object id"
    assert unknown == []


def expected_status(user: User, route: Route) -> int | None:
    """403 without the role, 404 inside the role but outside the scope, None when the object is in reach."""
    role, scoped = NAMESPACE_ROLES[route.namespace]
    from access.roles import user_has_role

    if role == SUPERUSER:
        return None if user.is_superuser else 403
    if not user_has_role(user, role):
        return 403
    return 404 if scoped else None


@pytest.mark.parametrize("method", ["get", "post"])
def test_objects_outside_reach_answer_403_or_404_without_data_and_are_audited(world: World, method: str) -> None:
    problems: list[str] = []
    checked = 0
    for user in users(world):
        client = signed_in(user)
        for route in object_routes():
            expected = expected_status(user, route)
            if expected is None:
                continue
            for values in foreign_values(world, route):
                url = build(route, values)
                before = AuditEvent.objects.filter(action="permission_denied", actor_id=user.pk).count()
                response = getattr(client, method)(url)
                checked += 1
                body = response.content.decode("utf-8", errors="replace")
                label = f"{user.username} {method.upper()} {url}"
                allowed = {expected, 405} if method == "post" or expected == 404 else {expected}
                if response.status_code not in allowed:
                    problems.append(f"{label}: {response.status_code}, expected {expected}")
                leaked = [value for value in canaries(world) if value in body]
                if leaked:
                    problems.append(f"{label}: body shows {leaked}")
                if response.status_code in (403, 404):
                    after = AuditEvent.objects.filter(action="permission_denied", actor_id=user.pk).count()
                    if after <= before:
                        problems.append(f"{label}: {response.status_code} without a permission_denied event")
    assert checked > 20
    assert problems == []


def test_the_admin_is_closed_to_everyone_but_superusers(world: World) -> None:
    problems: list[str] = []
    ids = {"object_id": str(world.foreign.account.pk)}
    for user in (world.alice, world.carol, world.dave, world.nobody):
        client = signed_in(user)
        for route in admin_object_routes():
            url = build(route, ids)
            response = client.get(url)
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode("utf-8", errors="replace")
            if response.status_code == 200:
                problems.append(f"{user.username} GET {url}: 200")
            leaked = [value for value in canaries(world) if value in body]
            if leaked:
                problems.append(f"{user.username} GET {url}: body shows {leaked}")
    assert admin_object_routes()
    assert problems == []


def test_objects_in_reach_still_open_so_the_sweep_can_fail(world: World) -> None:
    """The sweep's denials mean something only if the same URLs answer the user whose objects they are."""
    alice = signed_in(world.alice)
    assert alice.get(f"/cases/{world.own.account.pk}/").status_code == 200
    assert alice.get(f"/cases/{world.own.account.pk}/family-contact/{world.own_request.pk}/").status_code == 200
    carol = signed_in(world.carol)
    assert carol.get(f"/review/{world.own_request.pk}/").status_code == 200
    bob = signed_in(world.bob)
    assert CANARY_NAME[0] in bob.get(f"/cases/{world.foreign.account.pk}/").content.decode()


def own_values(world: World) -> list[dict[str, str]]:
    """Parameter sets naming objects in reach: Alice's account and request, a flag and call task on it, and
    the borrower and contact as an auditor's person lookup names them."""
    account = world.own.account
    flag = Flag.objects.create(
        account=account,
        kind=Flag.Kind.HARDSHIP,
        opened_reason="own flag",
        opened_by=world.alice,
        opened_at=timezone.now(),
    )
    task = CallTask.objects.create(
        account=account,
        officer=world.alice,
        due_date=lender_today(),
        dpd=45,
        policy_version=PolicyVersion.objects.filter(profile=account.portfolio.policy_profile).latest("version"),
    )
    reply = inbound_reply_record(phone=account.borrower.phone, text="own reply", received_at=timezone.now())
    plan = make_plan(account, world.alice, status=RepaymentPlan.Status.PROPOSED, instalments=[])
    complaint = complaint_file(
        account=account, officer=world.alice, complainant="borrower", channel="sms", category="other", text="own"
    )
    # Pending: its page shows masked values at most, and it has no access file to download.
    privacy_request = privacy_request_file(
        account=account, actor=world.alice, role=CASE_OFFICER, subject="borrower", kind="access", text="own"
    )
    common = {
        "account_id": str(account.pk),
        "request_id": str(world.own_request.pk),
        "flag_id": str(flag.pk),
        "task_id": str(task.pk),
        "reply_id": str(reply.pk),
        "plan_id": str(plan.pk),
        "complaint_id": str(complaint.pk),
        "privacy_request_id": str(privacy_request.pk),
        "change_id": "1",
        "version_id": "0",
        "proposal_id": "0",
        **NO_VALID_LINK,
    }
    return [
        common | {"kind": "borrower", "person_id": str(account.borrower_id)},
        common | {"kind": "contact", "person_id": str(world.own.contact.pk)},
    ]


def admin_pages() -> list[str]:
    """Each registered model's list, add form and the change form of its first object."""
    from django.contrib import admin
    from django.urls import reverse

    pages = []
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:1]:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk]))
    return pages


def full_phones() -> dict[str, str]:
    """Every phone of the fixture's people in both full forms, international and national, each with its owner."""
    phones = {p: "borrower" for p in Borrower.objects.values_list("phone", flat=True)}
    phones |= {p: "contact" for p in Contact.objects.values_list("phone", flat=True)}
    forms = {}
    for phone, owner in phones.items():
        assert phone.startswith("+86"), phone
        forms[phone] = owner
        forms[phone.removeprefix("+86")] = owner
    return forms


# Pages the walk must not open: they sign the user out, or (the access file) hand over a person's full data by
# design, as an audited reveal (tests/collections_app/test_privacy_access_file.py).
NOT_WALKED = {"accounts/logout/", "privacy/requests/<int:privacy_request_id>/access-file/"}


def test_no_page_any_role_can_open_shows_a_full_phone_in_either_form(world: World) -> None:
    """Officer, approver, auditor and admin open every page of theirs (the family-contact form's contact labels
    included); not one shows a phone as +8613800000001 or as 13800000001."""
    value_sets = own_values(world) + foreign_values(world, Route("", "", ("account_id", "request_id")))
    phones = full_phones()
    routes = [r for r in walk_routes(get_resolver().url_patterns) if not r.template.startswith("admin/")]
    problems: list[str] = []
    opened: dict[str, set[str]] = {}
    for user in (world.alice, world.carol, world.dave, world.root):
        client = signed_in(user)
        urls = {build(route, values) for route in routes if route.template not in NOT_WALKED for values in value_sets}
        if user.is_superuser:
            urls |= set(admin_pages())
        for url in sorted(urls):
            response = client.get(url)
            raw = b"".join(response.streaming_content) if response.streaming else response.content
            body = raw.decode("utf-8", errors="replace")
            if response.status_code == 200:
                opened.setdefault(user.username, set()).add(url)
            shown = sorted(f"{phone} ({owner})" for phone, owner in phones.items() if phone in body)
            if shown:
                problems.append(f"{user.username} GET {url} ({response.status_code}): shows {shown}")
    assert problems == []
    # The walk means something only if it opened the pages that show people, the contact labels among them.
    own = world.own.account.pk
    assert f"/cases/{own}/family-contact/new/" in opened["alice"]
    assert f"/cases/{own}/" in opened["alice"]
    assert f"/review/{world.own_request.pk}/" in opened["carol"]
    assert f"/audit/person/borrower/{world.own.account.borrower_id}/" in opened["dave"]
    borrower_admin = "/admin/collections_app/borrower/"
    assert any(url.startswith(borrower_admin) and url.endswith("/change/") for url in opened["root"])
    form = signed_in(world.alice).get(f"/cases/{own}/family-contact/new/").content.decode()
    assert mask_phone(world.own.contact.phone) in form, "the contact labels no longer show the masked phone"
