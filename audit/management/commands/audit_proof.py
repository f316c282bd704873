"""`audit_proof SEQ`: print an RFC 9162 inclusion proof of one event against its signed checkpoint."""

import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.chain.proof import ProofError, proof


class Command(BaseCommand):
    help = "Print an inclusion proof (JSON) of audit event SEQ in the newest checkpoint covering it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("seq", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = proof(options["seq"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except ProofError as exc:
            raise CommandError(str(exc), returncode=exc.returncode) from exc
        self.stdout.write(json.dumps(document, indent=2))
