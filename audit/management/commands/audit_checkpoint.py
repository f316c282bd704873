"""`audit_checkpoint`: seal every pending event into the chain and write a signed checkpoint."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from audit.chain.seal import ChainError
from audit.services import audit_chain_seal


class Command(BaseCommand):
    help = "Seal every pending audit event into the hash chain and write a signed checkpoint."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = audit_chain_seal()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from exc
        except ChainError as exc:
            raise CommandError(f"the chain head does not match the log: {exc}; run verify_audit") from exc
        if result.checkpoint is None:
            self.stdout.write("nothing to seal; the log is empty")
        else:
            self.stdout.write(f"sealed={result.sealed} tree_size={result.tree_size} checkpoint={result.checkpoint}")
