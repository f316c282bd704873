"""Import loan accounts, their borrowers and contacts from the core lending system's CSV file."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collections_app.importers.accounts import ACCOUNT_HEADER, accounts_import_file
from collections_app.importers.csv_rows import ImportFileError


class Command(BaseCommand):
    help = (
        "Import accounts from a UTF-8 CSV file with the header "
        + ",".join(ACCOUNT_HEADER)
        + ": one row per account and contact. A bad row stops the import and nothing is written; "
        "re-running a file changes nothing; nothing is deleted. Exit code 2 on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = accounts_import_file(path=options["file"], progress=self.stderr.write)
        except ImportFileError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(str(summary))
