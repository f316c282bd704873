"""`manage.py run_escalation`: the day's reminder ladder; running it twice on one day queues nothing twice."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collections_app.messaging.ladder import escalation_run


class Command(BaseCommand):
    """Write the day's borrower reminders and phone-call tasks for every account due within 3 days or overdue."""

    help = "The day's reminder ladder for every account due within 3 days or overdue (idempotent per day)."

    def add_arguments(self, parser: CommandParser) -> None:
        """--date lets an operator re-run a given lender-local day."""
        parser.add_argument("--date", help="lender-local date YYYY-MM-DD (default: today in TIME_ZONE)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the ladder, printing each step as it completes."""
        today = None
        if options["date"]:
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date must be YYYY-MM-DD: {exc}", returncode=2) from exc
        stats = escalation_run(today=today, progress=lambda line: self.stdout.write(f"  {line}"))
        for line in stats.skipped:
            self.stderr.write(f"skipped: {line}")
        summary = (
            f"{stats.today}: {stats.messages} messages queued, {stats.call_tasks} call tasks created"
            f", {stats.call_tasks_cancelled} cancelled"
        )
        self.stdout.write(self.style.SUCCESS(summary))
