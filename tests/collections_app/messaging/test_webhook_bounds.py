"""A signed webhook body is still input: deep nesting, a NUL or a lone surrogate in a key or a value, NaN, and a
moment outside 2000-01-01..now+5 min each answer 400 and change nothing (each of the first three was a 500)."""

import datetime
import json
import zoneinfo

import pytest
import time_machine
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from collections_app.messaging.relay import relay_run
from collections_app.messaging.webhooks import signature_for
from collections_app.models import ChannelStop, Message, PhoneOptOut, WebhookSignature
from tests.collections_app.messaging.messaging_support import enqueue_borrower_sms
from tests.factories import make_account

pytestmark = pytest.mark.django_db
SECRET = "webhook-bounds-secret"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
AT = "2026-03-10T09:59:00+08:00"


@pytest.fixture(autouse=True)
def webhook_settings(settings, tmp_path):
    settings.GATEWAY_WEBHOOK_SECRET = SECRET
    settings.MESSAGE_GATEWAY = f"file:{tmp_path / 'gateway.jsonl'}"


def post(endpoint: str, body: bytes) -> int:
    """Sign and post `body` at NOW, as the gateway would; the status code."""
    # The same body twice would be a replay (401): the property tests may draw one twice, so forget the last one.
    WebhookSignature.objects.all().delete()
    with time_machine.travel(NOW, tick=False):
        stamp = str(int(NOW.timestamp()))
        headers = {"X-Timestamp": stamp, "X-Signature": f"sha256={signature_for(SECRET, stamp, body)}"}
        client = Client(raise_request_exception=False)
        response = client.post(
            f"/hooks/gateway/{endpoint}/", data=body, content_type="application/json", headers=headers
        )
    return response.status_code


def state() -> tuple:
    """Everything a webhook may change."""
    return (
        tuple(Message.objects.order_by("pk").values_list("status", "sent_at", "delivered_at")),
        PhoneOptOut.objects.count(),
        ChannelStop.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def sent_message() -> Message:
    with time_machine.travel(NOW - datetime.timedelta(minutes=30), tick=False):
        message = enqueue_borrower_sms(make_account(), key="r1")
        relay_run()
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    return message


def with_raw(payload: dict, raw: str) -> bytes:
    """The payload as JSON with its `@` placeholder replaced by `raw`, JSON text as the gateway might send it."""
    return json.dumps(payload).replace("@", raw).encode()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("endpoint", ["inbound", "receipt"])
@pytest.mark.parametrize(
    "body",
    [
        nested(100_000),
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"from":"+8613800000000","text":"TD","received_at":"' + AT.encode() + b'","x":' + nested(100_000) + b"}",
    ],
    ids=["list", "object", "inside-a-good-body"],
)
def test_a_body_nested_deeper_than_the_parser_goes_answers_400(sent_message, endpoint: str, body: bytes) -> None:
    before = state()
    assert post(endpoint, body) == 400
    assert state() == before


@pytest.mark.parametrize("bad", ["r1\\u0000", "\\u0000", "r\\ud800", "\\udfff1"])
def test_a_nul_or_a_lone_surrogate_in_the_idempotency_key_answers_400(sent_message, bad: str) -> None:
    before = state()
    body = with_raw({"idempotency_key": "@", "status": "delivered", "at": AT}, bad)
    assert post("receipt", body) == 400
    assert state() == before


@pytest.mark.parametrize("endpoint", ["inbound", "receipt"])
@pytest.mark.parametrize("key", ["x\\u0000", "\\ud800", "status\\udc00"])
def test_a_nul_or_a_lone_surrogate_in_an_object_key_answers_400(sent_message, endpoint: str, key: str) -> None:
    before = state()
    good = {
        "inbound": {"from": "+8613800000000", "text": "TD", "received_at": AT},
        "receipt": {"idempotency_key": "r1", "status": "delivered", "at": AT},
    }[endpoint]
    body = with_raw(good | {"@": 1}, key)
    assert post(endpoint, body) == 400
    assert state() == before


def test_a_nul_in_an_inbound_reply_text_answers_400_and_records_nothing(sent_message) -> None:
    before = state()
    body = with_raw({"from": "+8613800000000", "text": "@", "received_at": AT}, "T\\u0000D")
    assert post("inbound", body) == 400
    assert state() == before


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(sent_message, constant: str) -> None:
    payload = {"idempotency_key": "r1", "status": "delivered", "at": AT, "n": "@"}
    body = json.dumps(payload).replace('"@"', constant).encode()
    assert post("receipt", body) == 400


@pytest.mark.parametrize(
    "at",
    [
        "2026-03-10T10:06:01+08:00",
        "9999-12-31T23:59:59-12:00",
        "1999-12-31T23:59:59+08:00",
        "0001-01-01T00:00:00+14:00",
    ],
)
def test_a_receipt_or_reply_dated_out_of_bounds_answers_400_and_moves_nothing(sent_message, at: str) -> None:
    before = state()
    assert post("receipt", json.dumps({"idempotency_key": "r1", "status": "delivered", "at": at}).encode()) == 400
    phone = sent_message.recipient
    assert post("inbound", json.dumps({"from": phone, "text": "TD", "received_at": at}).encode()) == 400
    assert state() == before


def test_a_receipt_five_minutes_ahead_of_our_clock_is_taken(sent_message) -> None:
    assert post("receipt", json.dumps({"idempotency_key": "r1", "status": "delivered", "at": AT}).encode()) == 204
    sent_message.refresh_from_db()
    assert sent_message.status == Message.Status.DELIVERED


# --- property tests: any signed body gets 204 or 400, and a 400 changes nothing ---------------------------------

FUZZ = hypothesis_settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Every character, surrogates and NUL included: JSON carries them all as escapes.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)
MOMENTS = st.one_of(
    st.sampled_from(
        [AT, "2026-03-10T10:05:00+08:00", "2026-03-10T10:05:01+08:00", "9999-12-31T23:59:59Z", "2026-03-10"]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    ANY_TEXT,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(ANY_TEXT, children, max_size=3),
    max_leaves=8,
)


def encoded(payload: dict, depth: int) -> bytes:
    """The payload as JSON (non-ASCII escaped, so a lone surrogate travels as a \\u escape), with a member
    `deep` nested `depth` lists deep when `depth` is not 0."""
    body = json.dumps(payload).encode()
    if not depth:
        return body
    deep = b'{"deep": ' + nested(depth)
    return deep + (b", " + body[1:] if payload else b"}")


@FUZZ
@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "idempotency_key": st.one_of(st.just("r1"), ANY_TEXT, JSON),
            "status": st.one_of(st.sampled_from(["sent", "delivered", "failed"]), JSON),
            "at": st.one_of(MOMENTS, JSON),
            "extra": JSON,
        },
    ),
    depth=st.sampled_from([0, 0, 0, 2, 5_000, 200_000]),
)
@example(payload={"idempotency_key": "r1", "status": "delivered", "at": AT}, depth=0)
@example(payload={"idempotency_key": "r1\x00", "status": "delivered", "at": AT}, depth=0)
@example(payload={"idempotency_key": "\ud800", "status": "failed", "at": AT}, depth=0)
def test_the_receipt_hook_answers_204_or_400_to_any_signed_body_and_a_400_changes_nothing(
    sent_message, payload: dict, depth: int
) -> None:
    before = state()
    status = post("receipt", encoded(payload, depth))
    assert status in (204, 400)
    if status == 400:
        assert state() == before


@FUZZ
@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "from": st.one_of(st.sampled_from(["+8613800000000", "+8613800000000\x00"]), ANY_TEXT, JSON),
            "text": st.one_of(st.sampled_from(["TD", "退订", "STOP", "T\x00D", "\udc80"]), ANY_TEXT, JSON),
            "received_at": st.one_of(MOMENTS, JSON),
            "extra": JSON,
        },
    ),
    depth=st.sampled_from([0, 0, 0, 2, 5_000, 200_000]),
)
@example(payload={"from": "+8613800000000", "text": "TD", "received_at": AT}, depth=0)
@example(payload={"from": "+8613800000000", "text": "T\x00D", "received_at": AT}, depth=0)
def test_the_inbound_hook_answers_204_or_400_to_any_signed_body_and_a_400_records_nothing(
    sent_message, payload: dict, depth: int
) -> None:
    before = state()
    status = post("inbound", encoded(payload, depth))
    assert status in (204, 400)
    if status == 400:
        assert state() == before


@FUZZ
@given(body=st.binary(max_size=300))
def test_arbitrary_signed_bytes_get_204_or_400_from_both_hooks(sent_message, body: bytes) -> None:
    for endpoint in ("inbound", "receipt"):
        before = state()
        status = post(endpoint, body)
        assert status in (204, 400)
        if status == 400:
            assert state() == before
