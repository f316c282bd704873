"""The family-contact journey in a real browser (Playwright driving Debian's Chromium against a live server).

officer1 files a request for DEMO-E1 and sees DEMO-N1 refused with its reason; approver1 approves it; the family
message reaches the file gateway without any amount or overdue detail; auditor1 finds the whole trail on /audit/.
The clock is fixed at 10:00 Shanghai on a weekday (inside the allowed hours) so it passes at any hour.
"""

import contextlib
import datetime
import json
import os
import re
import time
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from collections_app.messaging.firewall.lint import lint_message
from collections_app.messaging.relay import relay_run
from collections_app.models import Contact, LoanAccount, MessageTemplate
from demo.accounts import seed_users
from demo.family_contact import seed_family_contact_demo
from demo.totp_devices import demo_totp_devices_enrol
from review.models import FamilyContactRequest
from tests.audit.cleanup import audit_tables_cleared_on_flush  # noqa: F401 - flushes past the audit triggers

# serialized_rollback: a flush removes the rows the data migrations wrote (roles, policy profiles); restore them.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
JUSTIFICATION = "五次未接通且无法联系本人，申请联系其家属转告回电。"


def next_weekday_morning() -> datetime.datetime:
    """10:00 in Shanghai on the next weekday after today: inside the allowed hours, and in the future."""
    day = timezone.now().astimezone(SHANGHAI).date() + datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(next_weekday_morning(), tick=True):
        yield


@pytest.fixture
def gateway(settings, tmp_path: Path) -> Path:
    path = tmp_path / "gateway.jsonl"
    settings.MESSAGE_GATEWAY = f"file:{path}"
    return path


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process, as `make run` does without Redis."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def unavailable(reason: str) -> NoReturn:
    """Skip when the browser cannot run here; under `make test` (REQUIRE_BROWSER=1) fail, so green means it ran."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and REQUIRE_BROWSER=1 says the browser tests must run")
    pytest.skip(reason)


@pytest.fixture
def browser() -> Iterator[object]:
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        import playwright.sync_api as playwright_api
    except ImportError:
        unavailable("Playwright is not installed")
    if not Path(CHROMIUM).exists():
        unavailable("Debian's chromium is not installed (make test installs it)")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def step(page: object, name: str) -> Iterator[None]:
    """Run one step of the journey; on failure keep a screenshot of the page under tests/artifacts/."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)
        raise


def totp_now(username: str) -> str:
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def sign_in(page: object, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", settings.DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if "/accounts/mfa/" in page.url:
        page.fill("input[name=otp_token]", totp_now(username))
        page.click("main form button[type=submit] >> nth=0")
        page.wait_for_load_state()
    assert "/accounts/login/" not in page.url and "/accounts/mfa/" not in page.url, page.url


def sign_out(page: object) -> None:
    page.context.clear_cookies()


def plain_http_live_server(live_server: object) -> None:
    """Rebuild the live server's middleware: SecurityMiddleware reads SECURE_SSL_REDIRECT only when built, and the
    session-wide server may have been built before this test turned the redirect off (tests/review/conftest.py)."""
    handler = live_server.thread.httpd.get_app()
    for app in (handler, getattr(handler, "application", None)):
        if app is not None and hasattr(app, "load_middleware"):
            app.load_middleware()


def test_family_contact_journey(clock, gateway, eager_tasks, browser, live_server) -> None:
    plain_http_live_server(live_server)
    demo_totp_devices_enrol(users=seed_users(password=settings.DEMO_PASSWORD).values())
    seed_family_contact_demo()
    base = live_server.url
    e1 = LoanAccount.objects.get(account_number="DEMO-E1")
    n1 = LoanAccount.objects.get(account_number="DEMO-N1")
    e1_contact = Contact.objects.filter(borrower=e1.borrower).order_by("pk").first()
    n1_contact = Contact.objects.filter(borrower=n1.borrower).order_by("pk").first()
    template_zh = MessageTemplate.objects.get(code="family-callback-zh")

    page = browser.new_page(locale="zh-CN")
    with step(page, "1-officer-signs-in"):
        sign_in(page, base, "officer1")

    with step(page, "2-officer-checks-and-files-DEMO-E1"):
        page.goto(f"{base}/cases/{e1.pk}/family-contact/new/")
        page.select_option("select[name=contact]", str(e1_contact.pk))
        page.select_option("select[name=template]", str(template_zh.pk))
        page.fill("textarea[name=justification]", JUSTIFICATION)
        page.click("button[name=preview]")
        page.wait_for_load_state()
        assert page.locator(".eligible").count() == 1
        assert page.locator("tr.pass[data-rule]").count() == 7
        assert "回复TD退订" in page.inner_text(".message-body")
        page.click("button[name=submit]")
        page.wait_for_url(re.compile(rf"/cases/{e1.pk}/family-contact/\d+/$"))
        assert page.get_attribute(".status", "data-status") == "submitted"
    request = FamilyContactRequest.objects.get(account=e1)

    with step(page, "3-officer-is-refused-for-DEMO-N1"):
        page.goto(f"{base}/cases/{n1.pk}/family-contact/new/")
        page.select_option("select[name=contact]", str(n1_contact.pk))
        page.select_option("select[name=template]", str(template_zh.pk))
        page.fill("textarea[name=justification]", JUSTIFICATION)
        page.click("button[name=submit]")
        page.wait_for_load_state()
        assert page.locator(".ineligible").count() == 1
        failed = page.locator("tr.fail[data-rule]")
        assert failed.count() == 1 and failed.get_attribute("data-rule") == "1"
        assert "12" in failed.inner_text() and "30" in failed.inner_text()
        assert not FamilyContactRequest.objects.filter(account=n1).exists()
    sign_out(page)

    with step(page, "4-approver-approves"):
        sign_in(page, base, "approver1")
        page.goto(f"{base}/review/")
        row = page.locator(f"tr[data-request='{request.pk}']")
        assert row.count() == 1 and "DEMO-E1" in row.inner_text()
        row.locator("a").click()
        page.wait_for_url(re.compile(rf"/review/{request.pk}/$"))
        assert page.locator("tr.pass[data-rule]").count() == 14  # as filed and re-evaluated now
        assert e1.borrower.phone not in page.content()
        page.check("input[name=decision][value=approve]")
        page.click(".decision-form button[type=submit]")
        page.wait_for_url(re.compile(r"/review/$"))
    sign_out(page)

    with step(page, "5-message-reaches-the-gateway"):
        relay_run()  # the on-commit kick ran it already (eager tasks); a second run must send nothing
        lines = [json.loads(line) for line in gateway.read_text().splitlines()]
        assert len(lines) == 1
        sent = lines[0]
        assert sent["audience"] == "family" and sent["recipient"] == e1_contact.phone
        findings = lint_message(sent["body"], audience="family")
        assert findings == [], findings
        assert not re.search(r"逾期|欠|元|天", sent["body"])
        request.refresh_from_db()
        assert request.status == FamilyContactRequest.Status.SENT

    with step(page, "6-auditor-finds-the-trail"):
        sign_in(page, base, "auditor1")
        page.goto(f"{base}/audit/?object=familycontactrequest:{request.pk}")
        text = page.inner_text("main")
        for action in ("request_submitted", "request_approved", "request_sent"):
            assert action in text, action
        page.goto(f"{base}/audit/?actor=approver1")
        assert "view" in page.inner_text("main")
        page.goto(f"{base}/audit/?person=contact:{e1_contact.pk}")
        text = page.inner_text("main")
        assert "message_sent" in text
        assert e1_contact.phone not in page.content()
    page.close()
