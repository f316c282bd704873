"""The three gateways of MESSAGE_GATEWAY: console masks, file witnesses, http posts and answers reconciliation."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from collections_app.messaging.gateways import (
    ConsoleGateway,
    FileGateway,
    HttpGateway,
    Outbound,
    Outcome,
    gateway_from_setting,
)

MESSAGE = Outbound(idempotency_key="k-1", channel="sms", recipient="+8613812345678", audience="family", body="您好")


class FakeGateway(BaseHTTPRequestHandler):
    accepted: dict[str, dict] = {}
    status_for_post = 202

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.status_for_post < 300:
            self.accepted[self.headers["Idempotency-Key"]] = body
        self.send_response(self.status_for_post)
        self.end_headers()

    def do_GET(self):  # noqa: N802
        key = self.path.rsplit("/", 1)[-1]
        if key in self.accepted:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status": "accepted"}')
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_gateway():
    FakeGateway.accepted = {}
    FakeGateway.status_for_post = 202
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/messages"
    server.shutdown()


def test_console_logs_the_recipient_masked(caplog):
    with caplog.at_level(logging.INFO, logger="collections_app.gateway"):
        assert ConsoleGateway().send(MESSAGE).outcome is Outcome.ACCEPTED
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text


def test_file_gateway_appends_every_send_and_finds_keys(tmp_path):
    gateway = FileGateway(str(tmp_path / "out.jsonl"))
    assert gateway.was_accepted("k-1") is False
    gateway.send(MESSAGE)
    gateway.send(MESSAGE)
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert lines == [vars(MESSAGE), vars(MESSAGE)]
    assert gateway.was_accepted("k-1") is True and gateway.was_accepted("k-2") is False


def test_http_gateway_posts_with_the_idempotency_key_and_reconciles(http_gateway):
    gateway = gateway_from_setting(f"http:{http_gateway}")
    assert isinstance(gateway, HttpGateway)
    assert gateway.was_accepted("k-1") is False
    assert gateway.send(MESSAGE).outcome is Outcome.ACCEPTED
    assert FakeGateway.accepted == {"k-1": vars(MESSAGE)}
    assert gateway.was_accepted("k-1") is True


def test_http_gateway_refusal_and_server_error(http_gateway):
    gateway = HttpGateway(http_gateway)
    FakeGateway.status_for_post = 422
    assert gateway.send(MESSAGE).outcome is Outcome.REJECTED
    FakeGateway.status_for_post = 503
    assert gateway.send(MESSAGE).outcome is Outcome.UNKNOWN


def test_http_gateway_unreachable_is_unknown_not_failed():
    gateway = HttpGateway("http://127.0.0.1:9/none")
    assert gateway.send(MESSAGE).outcome is Outcome.UNKNOWN
    assert gateway.was_accepted("k-1") is None


@pytest.mark.parametrize("value", ["sms:foo", "file:", "carrier-pigeon"])
def test_bad_setting_is_refused(value):
    with pytest.raises(ImproperlyConfigured):
        gateway_from_setting(value)
