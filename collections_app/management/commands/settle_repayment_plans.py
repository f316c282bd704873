"""`manage.py settle_repayment_plans`: instalments paid from the payments received; plans kept or broken."""

from typing import Any

from django.core.management.base import BaseCommand

from collections_app.services.plans import repayment_plans_settle


class Command(BaseCommand):
    """Settle every approved or active plan as of today (also run daily by beat, before escalation)."""

    help = "Mark plan instalments paid from the payments received and move plans to active, kept or broken."

    def handle(self, *args: Any, **options: Any) -> None:
        """Settle and print what moved."""
        result = repayment_plans_settle()
        self.stdout.write(self.style.SUCCESS(", ".join(f"{key}: {value}" for key, value in sorted(result.items()))))
