"""`manage.py retention_run [--dry-run]`: erase the personal data of accounts past their retention period."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from collections_app.services.retention import retention_run


class Command(BaseCommand):
    """Run the retention job once (the beat runs it daily); `--dry-run` reports the counts and changes nothing."""

    help = (
        "Erase the personal data of borrowers whose accounts were all closed longer ago than their profile's "
        "retention period, unless a legal hold covers them or their contacts. Audited as retention_run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """--dry-run: count what would be erased, erase nothing."""
        parser.add_argument("--dry-run", action="store_true", help="report the counts, erase nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the job and print its counts."""
        run = retention_run(dry_run=options["dry_run"])
        counts = ", ".join(f"{name} {count}" for name, count in run.counts.items())
        label = "dry run" if run.dry_run else "erased"
        self.stdout.write(self.style.SUCCESS(f"retention {label} as of {run.now:%Y-%m-%d %H:%M}: {counts}"))
