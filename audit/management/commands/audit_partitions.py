"""`audit_partitions --ahead N`: make the partitions of this month and the next N, and the chain's next
partition, as the schema owner (DATABASE_OWNER_URL). Run it monthly; `migrate` runs it too.

`audit_partitions --detach YYYY-MM --archive DIR`: take an archived month out of the database, once a second
auditor approved it, its archive in DIR verifies and no legal hold covers anyone in it (audit.detach)."""

import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from audit.chain.manifest import MONTH_RE
from audit.detach import DetachRefused, month_detach
from audit.owner import owner_alias
from audit.partitions import MONTHS_REQUIRED, add_months, is_partitioned, lender_month, partitions_make
from audit.sinks import FilesystemSink


class Command(BaseCommand):
    help = "Make the audit log's monthly partitions for this month and the next N (as the schema owner)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ahead", type=int, default=MONTHS_REQUIRED, metavar="N", help="months after this one")
        parser.add_argument("--detach", metavar="YYYY-MM", help="detach this archived month (four-eyed, see docs)")
        parser.add_argument("--archive", metavar="DIR", help="where the month's archive is (with --detach)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["detach"] or options["archive"]:
            self._detach(options["detach"], options["archive"])
            return
        ahead, using = options["ahead"], owner_alias()
        if not 0 <= ahead <= 120:
            raise CommandError("--ahead takes 0 to 120 months", returncode=2)
        if not is_partitioned(using):
            self.stdout.write("the audit log is one table here (SQLite): nothing to make")
            return
        this_month = lender_month()
        try:
            made = partitions_make(first=this_month, last=add_months(this_month, ahead), using=using)
        except DatabaseError as exc:
            raise CommandError(f"could not make the partitions (run as the schema owner?): {exc}") from exc
        for name in made:
            self.stdout.write(f"made {name}")
        self.stdout.write(f"ok through {add_months(this_month, ahead):%Y-%m} ({len(made)} made)")

    def _detach(self, month_text: str | None, directory: str | None) -> None:
        if not month_text or not MONTH_RE.match(month_text) or not directory or not Path(directory).is_dir():
            raise CommandError("--detach YYYY-MM goes with --archive DIR, an archive's directory", returncode=2)
        year, month = (int(part) for part in month_text.split("-"))
        try:
            events = month_detach(
                month=datetime.date(year, month, 1), archive=FilesystemSink(directory), using=owner_alias()
            )
        except DetachRefused as exc:
            raise CommandError(f"not detached: {exc}") from exc
        self.stdout.write(f"detached {month_text} ({events} events); its archive is now the only copy")
