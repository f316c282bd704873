"""`audit_archive --before YYYY-MM --to DIR`: write every sealed event that occurred before that month into DIR,
a directory a month, with its chain entries, the checkpoint that covers them, range proofs and a signed
manifest (`verify_audit --archive DIR` checks them with AUDIT_PUBLIC_KEY alone). Changes nothing in the database."""

import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain.archive import ArchiveError, archive_write
from audit.chain.manifest import MONTH_RE
from audit.chain.manifest import runs_text as seqs
from audit.sinks import FilesystemSink


class Command(BaseCommand):
    help = "Archive every sealed audit event that occurred before a month, a directory a month, verifiable offline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", required=True, metavar="YYYY-MM", help="archive the months before this one")
        parser.add_argument("--to", required=True, metavar="DIR", help="where the month directories go")

    def handle(self, *args: Any, **options: Any) -> None:
        if not MONTH_RE.match(options["before"]):
            raise CommandError("--before takes a month as YYYY-MM", returncode=2)
        year, month = (int(part) for part in options["before"].split("-"))
        try:
            manifests = archive_write(before=datetime.date(year, month, 1), target=FilesystemSink(options["to"]))
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except ArchiveError as exc:
            raise CommandError(str(exc), returncode=exc.returncode) from exc
        except OSError as exc:
            raise CommandError(f"cannot write to {options['to']}: {exc}", returncode=2) from exc
        for manifest in manifests:
            state = "complete" if manifest.complete else "up to the last checkpoint"
            self.stdout.write(f"{manifest.month} events={manifest.events} seqs={seqs(manifest.runs)} {state}")
        self.stdout.write(f"archived {len(manifests)} months before {options['before']} into {options['to']}")
