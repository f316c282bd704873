"""Load the demo data (CONTRACT.md "Demo data"); idempotent, dates relative to the day it runs.

The demo's users share a published password and published TOTP secrets, so the command refuses to run unless
DEBUG is on (exit 2), and it never changes a user that exists already.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from collections_app.dpd import lender_today
from collections_app.models import LoanAccount
from demo import accounts as demo
from demo.access_demo import seed_access_demo
from demo.alive import demo_bring_alive
from demo.complaints import seed_complaints_demo
from demo.family_contact import seed_family_contact_demo
from demo.policy_proposals import seed_policy_proposal_demo
from demo.privacy import seed_privacy_demo
from demo.team_desk import seed_team_desk_demo
from demo.totp_devices import demo_totp_devices_enrol


class Command(BaseCommand):
    help = (
        "Create the demo users (password $DEMO_PASSWORD), portfolios, at least 200 borrowers with accounts "
        "over DPD -3..200, their contacts and history. Creates only what is missing: a second run creates nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already holds users or loan accounts (used by `make run`)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            # No flag or variable bypasses this: published credentials belong on a debug machine only.
            raise CommandError(
                "seed_demo creates users with a published password and TOTP secrets: it runs only with DEBUG on.",
                returncode=2,
            )
        if options["if_empty"] and (get_user_model().objects.exists() or LoanAccount.objects.exists()):
            self.stdout.write("The database already holds data: no demo data loaded.")
            return
        now = timezone.now()
        today = lender_today(now)
        # One transaction: an interrupted seed leaves nothing half-built. Each part of the demo is one step.
        with transaction.atomic():
            created = demo.seed_users(password=settings.DEMO_PASSWORD)
            demo.seed_portfolios()
            accounts = demo.seed_accounts(rows=demo.demo_account_rows(today=today))
            history = demo.seed_history(users=demo.demo_users(), today=today)
            family = seed_family_contact_demo(now=now)
            access = seed_access_demo(created=created)
            team = seed_team_desk_demo(users=demo.demo_users(), now=now, today=today)
            complaints = seed_complaints_demo(users=demo.demo_users(), now=now)
            privacy = seed_privacy_demo(users=demo.demo_users(), now=now)
            proposals = seed_policy_proposal_demo(users=demo.demo_users(), now=now)
            devices = demo_totp_devices_enrol(users=created.values())
        # On the first seed, after the data is committed, as the schedule would run on it: the ladder, the relay,
        # the seal, a verify. A later seed leaves that to the schedule (it creates nothing).
        alive = demo_bring_alive(now=now) if sum(accounts.created.values()) else {}
        self.stdout.write(f"Demo users created: {', '.join(created) or 'none'}")
        self.stdout.write(f"Demo accounts: {accounts}")
        self.stdout.write("Demo history: " + ", ".join(f"{n} {name}" for name, n in history.items()))
        self.stdout.write(f"Family-contact demo accounts: {', '.join(a.account_number for a in family)}")
        self.stdout.write(f"Demo TOTP devices created: {devices}")
        self.stdout.write("Demo access data created: " + ", ".join(f"{n} {name}" for name, n in access.items()))
        self.stdout.write("Team lead's desk: " + ", ".join(f"{n} {name}" for name, n in team.items()))
        self.stdout.write(f"Demo complaints filed: {complaints}")
        self.stdout.write(f"Demo data-subject requests filed: {privacy}")
        self.stdout.write(f"Demo policy proposals filed: {proposals}")
        self.stdout.write("Today's run: " + ", ".join(f"{n} {name}" for name, n in alive.items()))
