"""`audit_proof SEQ`: an RFC 9162 inclusion proof of one event against its signed checkpoint;
`audit_proof --consistency OLD_SIZE NEW_SIZE`: a consistency proof between two signed checkpoints."""

import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain.consistency import consistency_proof
from audit.chain.proof import ProofError, proof


class Command(BaseCommand):
    help = (
        "Print an inclusion proof (JSON) of audit event SEQ in the newest checkpoint covering it, or with "
        "--consistency OLD_SIZE NEW_SIZE a consistency proof between the checkpoints of those sizes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("seq", type=int, nargs="?")
        parser.add_argument(
            "--consistency", nargs=2, type=int, metavar=("OLD_SIZE", "NEW_SIZE"), help="prove the log only grew"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if (options["seq"] is None) == (options["consistency"] is None):
            raise CommandError("give either SEQ or --consistency OLD_SIZE NEW_SIZE", returncode=2)
        try:
            if options["consistency"]:
                document = consistency_proof(*options["consistency"])
            else:
                document = proof(options["seq"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except ProofError as exc:
            raise CommandError(str(exc), returncode=exc.returncode) from exc
        self.stdout.write(json.dumps(document, indent=2))
