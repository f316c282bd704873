"""The team lead's journey in a real browser (Playwright driving Debian's Chromium against a live server).

On the demo data, lead1 signs in with a TOTP code, opens the dashboard (in Chinese), reassigns two of officer1's
accounts to officer2 by ticking them, and approves the repayment plan officer1 proposed.
"""

import re

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from collections_app.dpd import lender_today
from collections_app.models import LoanAccount, RepaymentPlan
from demo import accounts as demo
from demo.access_demo import seed_access_demo
from demo.team_desk import seed_team_desk_demo
from demo.totp_devices import demo_totp_devices_enrol
from tests.audit.cleanup import audit_tables_cleared_on_flush  # noqa: F401 - flushes past the audit triggers
from tests.review.test_journey_browser import browser, plain_http_live_server, sign_in, step  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def seed_team_demo() -> None:
    """The demo's users, accounts and history, lead1's team and desk, and the TOTP devices (as seed_demo does)."""
    now = timezone.now()
    today = lender_today(now)
    created = demo.seed_users(password=settings.DEMO_PASSWORD)
    demo.seed_portfolios()
    demo.seed_accounts(rows=demo.demo_account_rows(today=today))
    demo.seed_history(users=demo.demo_users(), today=today)
    seed_access_demo(created=created)
    seed_team_desk_demo(users=demo.demo_users(), now=now, today=today)
    demo_totp_devices_enrol(users=created.values())


def test_team_lead_journey(browser, live_server) -> None:  # noqa: F811 - the browser fixture
    plain_http_live_server(live_server)
    seed_team_demo()
    base = live_server.url
    plan = RepaymentPlan.objects.get(status=RepaymentPlan.Status.PROPOSED)
    page = browser.new_page(locale="zh-CN")

    with step(page, "team-1-lead-signs-in-with-totp"):
        sign_in(page, base, "lead1")
        assert TOTPDevice.objects.filter(user__username="lead1", confirmed=True).exists()

    with step(page, "team-2-dashboard"):
        page.goto(f"{base}/team/")
        assert page.inner_text("h1") == "团队看板"
        assert page.locator("svg.chart").count() == 4
        assert page.locator("svg.chart rect.bar").count() > 0
        assert page.locator(f"tr[data-plan='{plan.pk}']").count() == 1

    with step(page, "team-3-reassigns-two-accounts"):
        page.goto(f"{base}/team/accounts/?officer=officer1")
        boxes = page.locator("input[name=accounts]")
        chosen = [int(boxes.nth(i).get_attribute("value")) for i in range(2)]
        for i in range(2):
            boxes.nth(i).check()
        page.select_option("form.reassign select[name=officer]", "officer2")
        page.click("form.reassign button[type=submit]")
        page.wait_for_url(re.compile(r"/team/accounts/\?officer=officer2$"))
        assert "2" in page.inner_text(".flash")
        owners = set(LoanAccount.objects.filter(pk__in=chosen).values_list("officer__username", flat=True))
        assert owners == {"officer2"}

    with step(page, "team-4-approves-the-plan"):
        page.goto(f"{base}/team/")
        page.click(f"tr[data-plan='{plan.pk}'] a")
        page.wait_for_url(re.compile(rf"/team/plans/{plan.pk}/$"))
        page.check("input[name=decision][value=approve]")
        page.fill("textarea[name=reason]", "三期还款可负担，同意。")
        page.click(".decision-form button[type=submit]")
        page.wait_for_url(re.compile(r"/team/$"))
        plan.refresh_from_db()
        assert plan.status == RepaymentPlan.Status.APPROVED
        assert plan.decided_by.username == "lead1"
        assert page.locator(f"tr[data-plan='{plan.pk}']").count() == 0
    page.close()
