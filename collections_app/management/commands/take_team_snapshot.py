"""`manage.py take_team_snapshot`: the team lead's dashboard data for a day; a second run rewrites the same rows."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collections_app.dpd import lender_today
from collections_app.team.snapshots import team_snapshot_take


class Command(BaseCommand):
    """Snapshot every account for the day's month, count the day's activity and rebuild the month's figures."""

    help = (
        "Every account's snapshot of the day's month (as of that day), each officer's activity of the day and the "
        "month's figures; idempotent per month. Default day: yesterday in TIME_ZONE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--day lets an operator take (or retake) a given lender-local day."""
        parser.add_argument("--day", help="lender-local date YYYY-MM-DD, at most today (default: yesterday)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Take the snapshot and print what it wrote."""
        day = None
        if options["day"]:
            try:
                day = datetime.date.fromisoformat(options["day"])
            except ValueError as exc:
                raise CommandError(f"--day must be YYYY-MM-DD: {exc}", returncode=2) from exc
            if not datetime.date(2000, 1, 1) <= day <= lender_today():
                raise CommandError("--day lies between 2000-01-01 and today", returncode=2)
        run = team_snapshot_take(day=day)
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.day}: {run.snapshots} account snapshots for {run.month:%Y-%m}, "
                f"{run.activity_rows} activity rows, {run.figures} month figures"
            )
        )
