"""`verify_audit`: check the whole chain and every checkpoint, or one inclusion or consistency proof offline."""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit.chain.consistency import consistency_check
from audit.chain.proof import MalformedProof, proof_check
from audit.chain.verify import verify
from audit.services import verification_run_record


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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["proof"]:
                self._check_proof(options["proof"], proof_check)
            elif options["consistency"]:
                self._check_proof(options["consistency"], consistency_check)
            else:
                self._verify_chain(full=options["full"])
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

    def _verify_chain(self, *, full: bool) -> None:
        started_at = timezone.now()
        result = verify(full=full)
        verification_run_record(result=result, started_at=started_at)
        if result.ok:
            self.stdout.write(f"ok events={result.events} checkpoints={result.checkpoints} rebuilt={result.rebuilt}")
            return
        if result.first_bad_seq is not None:
            self.stdout.write(f"first_bad_seq={result.first_bad_seq}")
        for name in result.bad_checkpoints:
            self.stdout.write(f"bad_checkpoint={name}")
        for reason in result.reasons:
            self.stderr.write(reason)
        self.stdout.flush()
        raise SystemExit(1)
