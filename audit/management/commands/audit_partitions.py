"""`audit_partitions --ahead N`: make the partitions of this month and the next N, and the chain's next
partition, as the schema owner (DATABASE_OWNER_URL). Run it monthly; `migrate` runs it too."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from audit.owner import owner_alias
from audit.partitions import MONTHS_REQUIRED, add_months, is_partitioned, lender_month, partitions_make


class Command(BaseCommand):
    help = "Make the audit log's monthly partitions for this month and the next N (as the schema owner)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ahead", type=int, default=MONTHS_REQUIRED, metavar="N", help="months after this one")

    def handle(self, *args: Any, **options: Any) -> None:
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
