"""Import payments from the core lending system's CSV file; each lowers its account's outstanding."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collections_app.importers.csv_rows import ImportFileError
from collections_app.importers.payments import PAYMENT_HEADER, payments_import_file


class Command(BaseCommand):
    help = (
        "Import payments from a UTF-8 CSV file with the header "
        + ",".join(PAYMENT_HEADER)
        + ". A reference already recorded with the same data is skipped, with different data it is an error. "
        "A bad row stops the import and nothing is written. Exit code 2 on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = payments_import_file(path=options["file"], progress=self.stderr.write)
        except ImportFileError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(str(summary))
