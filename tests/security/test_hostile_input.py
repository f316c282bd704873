"""Hostile input: imports, webhooks and the firewall are fuzzed; stored text renders escaped; CSV cells are inert."""

import csv
import datetime
import io
import itertools
import json
import time
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from access.roles import CASE_OFFICER
from audit.models import AuditEvent
from audit.record import audit_record
from collections_app.importers.accounts import ACCOUNT_HEADER
from collections_app.importers.payments import PAYMENT_HEADER
from collections_app.messaging.firewall.lint import lint_message
from collections_app.messaging.webhooks import signature_for
from collections_app.models import Borrower, Contact, Interaction, LoanAccount, Payment, PhoneOptOut
from collections_app.models.accounts import e164_validator
from review.services import family_contact_request_submit
from tests.conftest import signed_in
from tests.factories import make_account, make_contact, make_portfolio, make_user
from tests.review.conftest import add_failed_attempts, make_family_template

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            SCRIPT,
            '=HYPERLINK("http://evil")',
            "+1+2",
            "-1",
            "@SUM(A1)",
            "\x00",
            "\ufeff",
            "'; DROP TABLE collections_app_borrower; --",
            "A" * 5000,
            "１２３",
            "2026-02-30",
            "NaN",
            "Infinity",
            "-0.00",
            "1e9999",
            "+86 138 0000 0000",
            "Asia/Nowhere",
        ]
    ),
)


def world_counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Borrower, LoanAccount, Contact, Payment, AuditEvent))


def write_csv(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def valid_account_row(n: int) -> dict[str, str]:
    return {
        "account_number": f"FUZZ-{n:05d}",
        "borrower_ref": f"FB{n:05d}",
        "borrower_name": "张三",
        "borrower_id_number": "110101199003074514",
        "borrower_phone": f"+8613800{n:06d}",
        "borrower_timezone": "Asia/Shanghai",
        "principal": "5000.00",
        "outstanding": "4000.00",
        "oldest_unpaid_due_date": "2026-01-15",
        "portfolio": "default",
        "officer": "olga",
        "contact_name": "",
        "contact_relationship": "",
        "contact_phone": "",
        "contact_timezone": "",
        "contact_consent_at": "",
    }


def run_import(command: str, path: Path) -> int:
    """The command's exit code: 0 taken, 2 refused; anything else (a traceback) fails the test."""
    try:
        call_command(command, str(path), stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError as error:
        assert error.returncode == 2, error
        assert str(error).strip(), "a refusal must say what is wrong"
        return 2
    return 0


@pytest.fixture
def import_world(db: None) -> None:
    make_portfolio("default")
    make_user("olga", CASE_OFFICER)


@FUZZ
@given(column=st.sampled_from(ACCOUNT_HEADER), value=HOSTILE_TEXT, at=st.integers(min_value=0, max_value=2))
def test_a_hostile_account_cell_is_taken_or_refused_whole(
    import_world: None, tmp_path_factory: pytest.TempPathFactory, column: str, value: str, at: int
) -> None:
    path = tmp_path_factory.mktemp("csv") / "accounts.csv"
    rows = [valid_account_row(n) for n in range(3)]
    rows[at][column] = value
    write_csv(path, ACCOUNT_HEADER, rows)
    before = world_counts()
    if run_import("import_accounts", path) == 2:
        assert world_counts() == before, "a refused file must write nothing"


@FUZZ
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_as_an_accounts_file_are_refused_cleanly(
    import_world: None, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("csv") / "accounts.csv"
    path.write_bytes(data)
    before = world_counts()
    if run_import("import_accounts", path) == 2:
        assert world_counts() == before


@FUZZ
@given(column=st.sampled_from(PAYMENT_HEADER), value=HOSTILE_TEXT)
def test_a_hostile_payment_cell_is_taken_or_refused_whole(
    import_world: None, tmp_path_factory: pytest.TempPathFactory, column: str, value: str
) -> None:
    folder = tmp_path_factory.mktemp("csv")
    write_csv(folder / "accounts.csv", ACCOUNT_HEADER, [valid_account_row(1)])
    assert run_import("import_accounts", folder / "accounts.csv") == 0
    rows = [
        {"account_number": "FUZZ-00001", "paid_at": "2026-01-20T10:00:00+08:00", "amount": "10.00", "reference": "R1"},
        {"account_number": "FUZZ-00001", "paid_at": "2026-01-21T10:00:00+08:00", "amount": "20.00", "reference": "R2"},
    ]
    rows[1][column] = value
    write_csv(folder / "payments.csv", PAYMENT_HEADER, rows)
    before = world_counts()
    outstanding = LoanAccount.objects.get(account_number="FUZZ-00001").outstanding
    if run_import("import_payments", folder / "payments.csv") == 2:
        assert world_counts() == before
        assert LoanAccount.objects.get(account_number="FUZZ-00001").outstanding == outstanding


_CALLS = itertools.count(1)


def post_hook(client: Client, endpoint: str, body: bytes, *, secret: str = "hook-secret", sign: bool = True) -> int:
    # Each call a second later: the same body and timestamp twice is a replay, which the hook rightly refuses (401).
    with time_machine.travel(time.time() + 3600 + next(_CALLS), tick=False):
        timestamp = str(int(time.time()))
        headers = {"X-Timestamp": timestamp}
        if sign:
            headers["X-Signature"] = "sha256=" + signature_for(secret, timestamp, body)
        response = client.post(
            f"/hooks/gateway/{endpoint}/", data=body, content_type="application/json", headers=headers
        )
    return response.status_code


def _moment(value: object) -> bool:
    """Whether a webhook would take `value` as its moment: an ISO 8601 string with an offset, from 2000-01-01 to
    five minutes from now."""
    if not isinstance(value, str):
        return False
    try:
        moment = parse_datetime(value)
    except ValueError:
        return False
    if moment is None or moment.tzinfo is None:
        return False
    return datetime.datetime(2000, 1, 1, tzinfo=SHANGHAI) <= moment <= timezone.now() + datetime.timedelta(minutes=5)


def _storable(value: object) -> bool:
    """Whether every key and string in a parsed body is text PostgreSQL can keep: no NUL, no lone surrogate."""
    if isinstance(value, dict):
        return all(_storable(key) and _storable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= character <= "\udfff" for character in value)
    return True


def _e164(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        e164_validator(value)
    except ValidationError:
        return False
    return True


def inbound_status(payload: object) -> int:
    """The inbound hook's answer to a signed body that parsed as `payload`: 204 only for a well-formed SMS."""
    if not isinstance(payload, dict) or not _storable(payload):
        return 400
    well_formed = _e164(payload.get("from")) and isinstance(payload.get("text"), str)
    return 204 if well_formed and _moment(payload.get("received_at")) else 400


def receipt_status(payload: object) -> int:
    """The receipt hook's answer: 204 only for a key, a forward status and a moment."""
    if not isinstance(payload, dict) or not _storable(payload):
        return 400
    key = payload.get("idempotency_key")
    known = payload.get("status") in ("sent", "delivered", "failed")
    return 204 if isinstance(key, str) and key and known and _moment(payload.get("at")) else 400


def _no_constant(name: str) -> None:
    raise ValueError(name)


def parsed(body: bytes) -> object:
    """The body as strict JSON (no NaN or Infinity), or None."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


@pytest.fixture
def hook_secret(db: None, settings) -> None:
    settings.GATEWAY_WEBHOOK_SECRET = "hook-secret"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=6,
)


@FUZZ
@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "from": st.one_of(JSON_VALUES, st.sampled_from(["+8613800000000", "+1", "13800000000"])),
            "text": JSON_VALUES,
            "received_at": st.one_of(JSON_VALUES, st.just("2026-01-01T10:00:00+08:00")),
        },
    )
)
# Well-formed bodies among the draws, so both answers of the oracle are exercised on every run.
@example(payload={"from": "+8613800000000", "text": "hello", "received_at": "2026-01-01T10:00:00+08:00"})
@example(payload={"from": "13800000000", "text": "hello", "received_at": "2026-01-01T10:00:00+08:00"})
def test_the_inbound_hook_answers_204_or_400_to_any_signed_json(hook_secret: None, payload: dict) -> None:
    opt_outs = PhoneOptOut.objects.count()
    status = post_hook(Client(), "inbound", json.dumps(payload).encode())
    assert status == inbound_status(payload)
    if status == 400:
        assert PhoneOptOut.objects.count() == opt_outs


@FUZZ
@given(body=st.binary(max_size=300))
def test_the_hooks_answer_400_to_a_signed_body_that_is_not_a_json_object(hook_secret: None, body: bytes) -> None:
    for endpoint in ("inbound", "receipt"):
        expected = inbound_status(parsed(body)) if endpoint == "inbound" else receipt_status(parsed(body))
        assert post_hook(Client(), endpoint, body) == expected


@FUZZ
@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "idempotency_key": JSON_VALUES,
            "status": st.one_of(JSON_VALUES, st.sampled_from(["sent", "delivered", "failed", "queued"])),
            "at": st.one_of(JSON_VALUES, st.just("2026-01-01T10:00:00+08:00")),
        },
    )
)
@example(payload={"idempotency_key": "k", "status": "delivered", "at": "2026-01-01T10:00:00+08:00"})
@example(payload={"idempotency_key": "k", "status": "queued", "at": "2026-01-01T10:00:00+08:00"})
@example(payload={"idempotency_key": "k", "status": "sent", "at": "2026-01-01T10:00:00"})
def test_the_receipt_hook_answers_204_or_400_to_any_signed_json(hook_secret: None, payload: dict) -> None:
    assert post_hook(Client(), "receipt", json.dumps(payload).encode()) == receipt_status(payload)


@FUZZ
@given(body=st.binary(max_size=200), secret=st.text(min_size=1, max_size=20))
def test_the_hooks_answer_401_to_a_wrong_or_missing_signature(hook_secret: None, body: bytes, secret: str) -> None:
    wrong = secret if secret != "hook-secret" else secret + "x"
    assert post_hook(Client(), "inbound", body, secret=wrong) == 401
    assert post_hook(Client(), "receipt", body, sign=False) == 401


def test_an_oversize_webhook_body_is_refused_without_a_traceback(db: None, settings) -> None:
    settings.GATEWAY_WEBHOOK_SECRET = "hook-secret"
    body = json.dumps({"from": "+8613800000000", "text": "x" * (3 * 1024 * 1024)}).encode()
    assert post_hook(Client(raise_request_exception=False), "inbound", body) == 400


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True)
@given(
    text=st.one_of(st.text(max_size=200), st.text(alphabet="0123456789０１２３五千万元¥$逾期天欠款卡号 ", max_size=80))
)
def test_the_firewall_returns_findings_inside_the_text_for_any_input(text: str) -> None:
    for audience in ("family", "borrower"):
        for finding in lint_message(text, audience=audience):
            assert 0 <= finding.start < finding.end <= len(text)
            assert text[finding.start : finding.end] == finding.text


@pytest.fixture
def hostile_case(officer: User) -> tuple:
    template = make_family_template()
    account = make_account(officer, dpd=45)
    contact = make_contact(account.borrower)
    add_failed_attempts(account, officer)
    Interaction.objects.create(
        account=account,
        officer=officer,
        outcome=Interaction.Outcome.NO_ANSWER,
        note=f"note {SCRIPT}",
        occurred_at=timezone.now(),
    )
    request = family_contact_request_submit(
        account=account,
        contact=contact,
        template=template,
        justification=f"Justification with markup {SCRIPT}",
        requested_by=officer,
    )
    return account, request


def test_notes_and_justifications_render_escaped(officer: User, approver: User, hostile_case: tuple) -> None:
    account, request = hostile_case
    pages = [
        (officer, f"/cases/{account.pk}/"),
        (officer, f"/cases/{account.pk}/family-contact/{request.pk}/"),
        (approver, f"/review/{request.pk}/"),
    ]
    for user, url in pages:
        response = signed_in(user).get(url)
        body = response.content.decode()
        assert response.status_code == 200, url
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
    assert "&lt;script&gt;alert" in signed_in(approver).get(f"/review/{request.pk}/").content.decode()


def test_the_audit_export_neutralises_formula_cells(auditor: User) -> None:
    for value in ("=1+2", "+cmd", "-2+3", "@SUM(A1)"):
        audit_record(action="view", object_type=value, purpose=value, detail={})
    response = signed_in(auditor).get("/audit/export.csv")
    assert response.status_code == 200
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(response.streaming_content).decode("utf-8-sig")
                if hasattr(response, "streaming_content")
                else response.content.decode("utf-8-sig")
            )
        )
    )
    cells = [cell for row in rows[1:] for cell in row]
    assert cells
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert dangerous == []
    assert any(cell.startswith("'=") for cell in cells)


def test_oversize_form_input_is_refused_with_a_message_and_writes_nothing(officer: User, hostile_case: tuple) -> None:
    account, _ = hostile_case
    client = signed_in(officer)
    before = Interaction.objects.count()
    response = client.post(
        f"/cases/{account.pk}/interactions/new/",
        {"outcome": "no_answer", "channel": "phone", "note": "x" * 50_000, "occurred_at": "2026-01-01T10:00"},
    )
    assert response.status_code == 200
    assert Interaction.objects.count() == before
    assert response.context["form"].errors
