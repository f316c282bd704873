"""The message gateway's webhooks: inbound SMS (opt-outs and replies) and delivery receipts.

Both are signed: `X-Signature: sha256=<hex HMAC-SHA256 of "<X-Timestamp>.<body>">` with
GATEWAY_WEBHOOK_SECRET; a timestamp more than 300 s away or a signature already used is refused (401).
A signed body is still input: it must be strict JSON (no NaN), an object of text the database can store (no
NUL, no lone surrogate, in keys or values, at any depth), its moments within `audit.bounds`; anything else
is malformed (400), however deeply it nests.
"""

import datetime
import hashlib
import hmac
import json
import re
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.bounds import reported_moment_error
from collections_app.messaging.inbound import inbound_sms_take
from collections_app.messaging.receipts import message_receipt_take
from collections_app.models import InboundReply, Message, WebhookSignature
from collections_app.models.accounts import e164_validator

MAX_CLOCK_SKEW_SECONDS = 300
# PostgreSQL stores no NUL in text, and UTF-8 has no lone surrogate: a string holding either cannot be kept.
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>`."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_valid(*, secret: str, timestamp: str, body: bytes, header: str, now: float) -> bool:
    """Whether the header signs this body and timestamp, and the timestamp is within the allowed skew."""
    if not secret or not header.startswith("sha256="):
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > MAX_CLOCK_SKEW_SECONDS:
        return False
    return hmac.compare_digest(header.removeprefix("sha256="), signature_for(secret, timestamp, body))


def _parse_moment(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None or reported_moment_error(moment) is not None:
        return None
    return moment


def _storable_text(value: Any) -> bool:
    """Whether an inbound text can be kept as it came: a string of at most an SMS's length that PostgreSQL
    can store (no NUL, no lone surrogate)."""
    if not isinstance(value, str) or len(value) > InboundReply.TEXT_MAX_LENGTH or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _refuse_constant(name: str) -> None:
    """json's hook for NaN and Infinity, which JSON itself does not have."""
    raise ValueError(f"not JSON: {name}")


def _storable(payload: object) -> bool:
    """Whether every key and string in the parsed body is text the database can store; walked without recursion,
    so a body nested as deep as the parser allowed is checked as cheaply as a flat one."""
    pending = [payload]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and UNSTORABLE_TEXT.search(value):
            return False
    return True


def _json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object of storable text; None for a malformed body."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: nesting deeper than the parser's stack, which is no gateway's body.
        return None
    if not isinstance(payload, dict) or not _storable(payload):
        return None
    return payload


def _signed_json(request: HttpRequest, endpoint: str) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    """Check the signature and record it (a replay is refused); then parse the body as a JSON object."""
    header = request.headers.get("X-Signature", "")
    if not signature_valid(
        secret=settings.GATEWAY_WEBHOOK_SECRET,
        timestamp=request.headers.get("X-Timestamp", ""),
        body=request.body,
        header=header,
        now=time.time(),
    ):
        return None, HttpResponse(status=401)
    try:
        with transaction.atomic():
            WebhookSignature.objects.create(signature=header.removeprefix("sha256=")[:64], endpoint=endpoint)
    except IntegrityError:
        return None, HttpResponse(status=401)
    payload = _json_object(request.body)
    if payload is None:
        return None, HttpResponse(status=400)
    return payload, None


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    """An inbound SMS: an opt-out stops SMS for a borrower or opts the number out; any other reply is kept."""
    with transaction.atomic():
        payload, refusal = _signed_json(request, "inbound")
        if refusal is not None:
            return refusal
        phone, text = payload.get("from"), payload.get("text")
        received_at = _parse_moment(payload.get("received_at"))
        if not isinstance(phone, str) or not _storable_text(text) or received_at is None:
            return HttpResponse(status=400)
        try:
            e164_validator(phone)
        except Exception:  # noqa: BLE001 - any invalid number is a malformed body
            return HttpResponse(status=400)
        inbound_sms_take(phone=phone, text=text, received_at=received_at)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def receipt(request: HttpRequest) -> HttpResponse:
    """A delivery receipt: moves the message's status forward only."""
    with transaction.atomic():
        payload, refusal = _signed_json(request, "receipt")
        if refusal is not None:
            return refusal
        key, status = payload.get("idempotency_key"), payload.get("status")
        at = _parse_moment(payload.get("at"))
        allowed = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.FAILED)
        if not isinstance(key, str) or not key or status not in allowed or at is None:
            return HttpResponse(status=400)
        message_receipt_take(idempotency_key=key, status=status, at=at)
    return HttpResponse(status=204)
