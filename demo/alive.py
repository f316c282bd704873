"""A demo that is alive on first start: today's ladder run, what may go now handed over, the log sealed and verified.

Without this, `make run` showed no message and no call task until the next 07:30 ladder, and the auditor's
verification page said "not yet verified" until 03:30. Every step goes through the services the schedule uses,
so the demo shows what the rules decide at this very hour: messages sent by day and waiting by night, a message
suppressed by a borrower flag, calls due with their "may I call now" answer, and two calls logged against the
contact gate's refusal (compliance exceptions). Running it again on the same day adds nothing.
"""

import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from audit.tasks import audit_seal, audit_verify
from collections_app.dpd import lender_today
from collections_app.messaging.ladder import escalation_run
from collections_app.messaging.relay import relay_run
from collections_app.messaging.rules import recipient_zone
from collections_app.models import BorrowerFlag, Interaction, LoanAccount, Message
from collections_app.services.accounts import interaction_log
from collections_app.services.borrower_flags import borrower_flag_set
from demo.accounts import DEMO_BORROWER_PREFIX, DEMO_OFFICERS

# Messages not handed to the gateway yet: a flag set now suppresses them.
PENDING_STATUSES = (Message.Status.QUEUED, Message.Status.WAITING)
# The overridden calls' reasons, as an officer would write them (each at least the 20 characters the form asks).
VULNERABLE_CALL_REASON = "The borrower's carer rang and asked us to call back about the hospital stay."
NIGHT_CALL_REASON = "The borrower asked in writing to be called after the night shift ends at 02:00."


def demo_bring_alive(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Run today's ladder, flag one borrower as vulnerable, relay, log two overridden calls, seal and verify."""
    now = now or timezone.now()
    officer = User.objects.get(username=DEMO_OFFICERS[0])
    ladder = escalation_run(today=lender_today(now))
    flagged = _flag_one_borrower_with_queued_messages(officer)
    # At this moment, not `now`: the ladder's messages were written after it (their `not_before` is later).
    relay_run()
    exceptions = _overridden_calls(officer, now)
    # Sealing signs a checkpoint: without a signing key (a bare `seed_demo` outside `make run`) the schedule seals.
    signing = bool(settings.AUDIT_SIGNING_KEY)
    sealed = audit_seal() if signing else 0
    verified = audit_verify(full=True) if signing else False
    return {
        "messages the ladder wrote": ladder.messages,
        "call tasks": ladder.call_tasks,
        "borrowers flagged vulnerable": flagged,
        **{f"messages {status}": n for status, n in _messages_by_status().items()},
        "compliance exceptions": exceptions,
        "audit events sealed": sealed,
        "log verified": int(bool(verified)),
    }


def _messages_by_status() -> dict[str, int]:
    """How many messages are sent, queued, waiting and suppressed (a worker, kicked by the ladder, may relay)."""
    shown = (Message.Status.SENT, Message.Status.QUEUED, Message.Status.WAITING, Message.Status.SUPPRESSED)
    counts = dict(Message.objects.filter(status__in=shown).values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in shown}


def _demo_accounts(officer: User) -> list[LoanAccount]:
    """Officer1's general demo accounts (not the DEMO-E/N accounts whose state CONTRACT.md fixes), overdue first."""
    return list(
        LoanAccount.objects.filter(officer=officer, borrower__external_ref__startswith=DEMO_BORROWER_PREFIX)
        .exclude(oldest_unpaid_due_date=None)
        .select_related("borrower")
        .order_by("oldest_unpaid_due_date", "account_number")
    )


def _flag_one_borrower_with_queued_messages(officer: User) -> int:
    """Flag the first borrower with a reminder not yet sent as vulnerable: its messages are then suppressed."""
    if BorrowerFlag.objects.filter(kind=BorrowerFlag.Kind.VULNERABLE).exists():
        return 0
    for account in _demo_accounts(officer):
        if Message.objects.filter(borrower=account.borrower, status__in=PENDING_STATUSES).exists():
            borrower_flag_set(
                borrower=account.borrower,
                account=account,
                officer=officer,
                kind=BorrowerFlag.Kind.VULNERABLE,
                reason="Told us on the phone of a long hospital stay; no reminders until they are home.",
            )
            return 1
    return 0


def _overridden_calls(officer: User, now: datetime.datetime) -> int:
    """Two calls logged against the gate's refusal, each with its reason: the auditor's compliance exceptions."""
    if Interaction.objects.exclude(override_reason="").exists():
        return 0
    logged = 0
    flagged = BorrowerFlag.objects.filter(kind=BorrowerFlag.Kind.VULNERABLE, closed_at=None).first()
    accounts = _demo_accounts(officer)
    if flagged is not None:
        account = next(a for a in accounts if a.borrower_id == flagged.borrower_id)
        logged += _log_overridden(account, officer, now, VULNERABLE_CALL_REASON)
    night = _last_local_hour(accounts[-1], now, hour=2) if accounts else None
    if night is not None:
        logged += _log_overridden(accounts[-1], officer, night, NIGHT_CALL_REASON)
    return logged


def _last_local_hour(account: LoanAccount, now: datetime.datetime, *, hour: int) -> datetime.datetime:
    """The latest moment before `now` at `hour` o'clock in the borrower's zone."""
    local = now.astimezone(recipient_zone(account.borrower.timezone))
    moment = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment if moment < local else moment - datetime.timedelta(days=1)


def _log_overridden(account: LoanAccount, officer: User, moment: datetime.datetime, reason: str) -> int:
    """Log an unanswered call made anyway; 1 when the gate refused it (an exception), 0 when it let it through."""
    with transaction.atomic():
        call = interaction_log(
            account=account,
            officer=officer,
            outcome=Interaction.Outcome.NO_ANSWER,
            note="No answer.",
            occurred_at=moment,
            override_reason=reason,
        )
    return int(bool(call.override_reason))
