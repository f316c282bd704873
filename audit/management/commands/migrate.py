"""`migrate` as the schema owner: Django's command, connecting as DATABASE_OWNER_URL unless `--database` says
otherwise, so the app's own role never needs to own a table (docs/operations.md, "Database roles")."""

from django.core.management.base import CommandParser
from django.core.management.commands.migrate import Command as DjangoMigrate

from audit.owner import owner_alias


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Connects as DATABASE_OWNER_URL (the schema owner) unless --database is given."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(database=owner_alias())
