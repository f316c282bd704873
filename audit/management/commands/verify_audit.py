"""`verify_audit`: check the whole chain and every checkpoint (or, incrementally, what was sealed since the last
verified one), or offline one inclusion or consistency proof, or an archive."""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain.archive_check import ArchiveMissing, archive_check
from audit.chain.consistency import consistency_check
from audit.chain.proof import MalformedProof, proof_check
from audit.notes import public_key
from audit.services import audit_chain_verify
from audit.sinks import FilesystemSink


class Command(BaseCommand):
    help = "Verify the audit chain against its signed checkpoints (exit 1 when anything is wrong)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--proof", metavar="FILE", help="check one inclusion proof (from audit_proof) offline")
        parser.add_argument(
            "--consistency", metavar="FILE", help="check one consistency proof (audit_proof --consistency) offline"
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="rebuild every event's entry from its columns, even rows no one has written since their seal",
        )
        parser.add_argument(
            "--archive", metavar="DIR", help="check an archive (from audit_archive) offline with AUDIT_PUBLIC_KEY"
        )
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="check only what was sealed since the last checkpoint a verify run confirmed",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["proof"]:
                self._check_proof(options["proof"], proof_check)
            elif options["consistency"]:
                self._check_proof(options["consistency"], consistency_check)
            elif options["archive"]:
                self._check_archive(options["archive"])
            elif options["full"] and options["incremental"]:
                raise CommandError("--full and --incremental do not go together", returncode=2)
            else:
                self._verify_chain(full=options["full"], incremental=options["incremental"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from exc

    def _check_proof(self, path: str, check: Callable[[Any], tuple[bool, str]]) -> None:
        try:
            document = json.loads(sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8"))
            holds, why = check(document)
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError and MalformedProof included
            reason = exc if isinstance(exc, MalformedProof) else f"cannot read a proof from {path}: {exc}"
            raise CommandError(f"malformed proof: {reason}", returncode=2) from exc
        if not holds:
            self.stdout.write(f"proof does not hold: {why}")
            raise SystemExit(1)
        self.stdout.write(f"proof holds: {why}")

    def _check_archive(self, directory: str) -> None:
        if not Path(directory).is_dir():
            raise CommandError(f"{directory} is not a directory", returncode=2)
        try:
            months = archive_check(FilesystemSink(directory), public_key())
        except ArchiveMissing as exc:
            raise CommandError(f"no archive: {exc}", returncode=2) from exc
        bad = [month for month in months if not month.ok]
        for month in months:
            if month.ok:
                self.stdout.write(f"ok {month.month} events={month.events}")
        for month in bad:
            if month.first_bad_seq is not None:
                self.stdout.write(f"first_bad_seq={month.first_bad_seq}")
            self.stdout.write(f"bad_archive={month.month}")
            for reason in month.reasons:
                self.stderr.write(f"{month.month}: {reason}")
        if bad:
            self.stdout.flush()
            raise SystemExit(1)

    def _verify_chain(self, *, full: bool, incremental: bool) -> None:
        result = audit_chain_verify(full=full, incremental=incremental)
        if result.ok:
            summary = f"ok events={result.events} checkpoints={result.checkpoints} rebuilt={result.rebuilt}"
            if incremental:
                summary += f" kind={result.kind} after={result.after}"
            self.stdout.write(summary)
            for note in result.notes:
                self.stderr.write(note)
            return
        if result.first_bad_seq is not None:
            self.stdout.write(f"first_bad_seq={result.first_bad_seq}")
        for name in result.bad_checkpoints:
            self.stdout.write(f"bad_checkpoint={name}")
        for reason in result.reasons:
            self.stderr.write(reason)
        self.stdout.flush()
        raise SystemExit(1)
