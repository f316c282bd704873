"""Message gateways chosen by `MESSAGE_GATEWAY`: `console`, `file:PATH` and `http:URL`.

Each gateway hands messages over and can answer, for a message whose hand-off outcome is unknown
(the worker died mid-send), whether it ever accepted that idempotency key: the relay reconciles through
that answer instead of sending again.
"""

import abc
import enum
import fcntl
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from collections_app.masking import mask_phone

logger = logging.getLogger("collections_app.gateway")

HTTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Outbound:
    """What a gateway is given: exactly the JSON object of CONTRACT.md."""

    idempotency_key: str
    channel: str
    recipient: str
    audience: str
    body: str


class Outcome(enum.Enum):
    """A hand-off's result: accepted, refused for good, or not known (reconcile later)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Result:
    """One hand-off's outcome and, when it was not accepted, why."""

    outcome: Outcome
    error: str = ""


class Gateway(abc.ABC):
    """The interface every gateway implements."""

    def send_many(self, messages: Sequence[Outbound]) -> list[Result]:
        """Hand each message over; one result per message, in order."""
        return [self.send(message) for message in messages]

    @abc.abstractmethod
    def send(self, message: Outbound) -> Result:
        """Hand one message over."""

    @abc.abstractmethod
    def was_accepted(self, idempotency_key: str) -> bool | None:
        """Whether the gateway accepted this key before; None when it cannot tell now."""


def _masked_recipient(recipient: str) -> str:
    return mask_phone(recipient) if recipient.startswith("+") else recipient


class ConsoleGateway(Gateway):
    """Logs each message with the recipient masked; everything it is given counts as sent."""

    def send(self, message: Outbound) -> Result:
        """Log the message."""
        logger.info(
            "message %s %s/%s to %s: %s",
            message.idempotency_key,
            message.audience,
            message.channel,
            _masked_recipient(message.recipient),
            message.body,
        )
        return Result(Outcome.ACCEPTED)

    def was_accepted(self, idempotency_key: str) -> bool | None:
        """A console hand-off cannot fail once started: treat it as sent."""
        return True


class FileGateway(Gateway):
    """Appends one JSON object a line per send it is given; it never de-duplicates (it is the witness)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def send_many(self, messages: Sequence[Outbound]) -> list[Result]:
        """Append every message in one locked write."""
        if not messages:
            return []
        data = "".join(json.dumps(asdict(m), ensure_ascii=False) + "\n" for m in messages).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # Other processes append too: the lock keeps lines whole.
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)
        return [Result(Outcome.ACCEPTED) for _ in messages]

    def send(self, message: Outbound) -> Result:
        """Append one message."""
        return self.send_many([message])[0]

    def was_accepted(self, idempotency_key: str) -> bool | None:
        """Whether the file holds a line for this key."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        if json.loads(line).get("idempotency_key") == idempotency_key:
                            return True
                    except ValueError:
                        continue  # a torn last line is not an acceptance
        except FileNotFoundError:
            return False
        return False


class HttpGateway(Gateway):
    """POSTs the JSON object with an `Idempotency-Key` header; 2xx is accepted."""

    def __init__(self, url: str) -> None:
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise ImproperlyConfigured("MESSAGE_GATEWAY http: needs an http(s) URL.")
        self.url = url.rstrip("/")

    def send(self, message: Outbound) -> Result:
        """POST one message; 4xx is a refusal, anything else that is not 2xx leaves the outcome unknown."""
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=json.dumps(asdict(message), ensure_ascii=False).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": message.idempotency_key},
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                if 200 <= response.status < 300:
                    return Result(Outcome.ACCEPTED)
                return Result(Outcome.UNKNOWN, f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500 and exc.code not in (408, 409, 425, 429):
                return Result(Outcome.REJECTED, f"HTTP {exc.code}")
            return Result(Outcome.UNKNOWN, f"HTTP {exc.code}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            # The request may or may not have reached the gateway: reconcile, never resend blindly.
            return Result(Outcome.UNKNOWN, str(exc)[:200])

    def was_accepted(self, idempotency_key: str) -> bool | None:
        """GET URL/<key>: 200 accepted, 404 never accepted, anything else unknown."""
        url = f"{self.url}/{urllib.parse.quote(idempotency_key, safe='')}"
        try:
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
                if response.status == 200:
                    return json.loads(response.read() or b"{}").get("status") == "accepted"
                return None
        except urllib.error.HTTPError as exc:
            return False if exc.code == 404 else None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            return None


def gateway_from_setting(value: str) -> Gateway:
    """Build the gateway a `MESSAGE_GATEWAY` value names."""
    if value in ("", "console"):
        return ConsoleGateway()
    kind, _, target = value.partition(":")
    if kind == "file" and target:
        return FileGateway(target)
    if kind == "http" and target:
        # `http:https://host/path` and `http:http://...` name the URL after the first colon.
        return HttpGateway(target if "://" in target else f"http:{target}")
    raise ImproperlyConfigured(f"MESSAGE_GATEWAY must be console, file:PATH or http:URL, not {value!r}.")


def current_gateway() -> Gateway:
    """The gateway `MESSAGE_GATEWAY` selects, read at call time (tests override the setting)."""
    return gateway_from_setting(settings.MESSAGE_GATEWAY)
