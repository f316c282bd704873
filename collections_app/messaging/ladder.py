"""The daily reminder ladder (`run_escalation`): set-based SQL over the whole book, idempotent per day.

For each policy profile in force, one `INSERT ... SELECT ... ON CONFLICT DO NOTHING` scans the book once and
writes the day's borrower messages of every stage and channel (and, in the same statement, their
`message_queued` audit events); the call-task half (`ladder_calls`) writes the day's phone-call tasks. Keys are
`esc:<account>:<date>:<channel>` and (account, date) for call tasks, so running twice on a day queues nothing
twice. It never writes family messages. The SQLite demo writes the same rows stage by stage, row by row.
"""

import datetime
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from audit.record import audit_events_sql, audit_record, person_key, person_key_sql
from collections_app.dpd import lender_today
from collections_app.messaging.contact_gate import LADDER_STAGES
from collections_app.messaging.firewall.lint import lint_message
from collections_app.messaging.firewall.modes import firewall_profile_for
from collections_app.messaging.ladder_calls import CallTaskCounts, write_call_tasks
from collections_app.messaging.render import (
    body_expression,
    fill_placeholders,
    render_sql,
    template_placeholders_unknown,
)
from collections_app.messaging.rules import (
    LADDER_MESSAGES_PER_CHANNEL_PER_DAY,
    daily_cap_messages,
    daily_cap_probe_sql,
    daily_cap_q,
)
from collections_app.messaging.tasks import kick_relay
from collections_app.models import (
    Borrower,
    ChannelStop,
    LoanAccount,
    Message,
    PolicyVersion,
    TemplateVersion,
)
from collections_app.selectors.profiles import current_policy_versions, ladder_accounts

# One escalation run at a time (pg_advisory_xact_lock key): "escalate" in spirit.
ESCALATION_LOCK = 0x657363
CALL_TASK_LOCK = ESCALATION_LOCK + 1  # the call-task half of a run, on its own connection
STAGES = LADDER_STAGES
CHANNELS = (Message.Channel.SMS, Message.Channel.IN_APP)


@dataclass
class EscalationStats:
    """What a run wrote, step by step."""

    today: datetime.date | None = None
    messages: int = 0
    call_tasks: int = 0
    call_tasks_cancelled: int = 0
    steps: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def ladder_dpd_q(policy: PolicyVersion, stage: str, channel: str, today: datetime.date) -> Q | None:
    """The DPDs on which `stage` sends on `channel` under `policy`, as a filter on the due date; None: never."""
    due = "oldest_unpaid_due_date"

    def on_days(days: list[int]) -> Q | None:
        dates = sorted({today - datetime.timedelta(days=d) for d in days})
        return Q(**{f"{due}__in": dates}) if dates else None

    if stage == "pre-due":
        return on_days([d for d in policy.reminder_days if d < 0])
    if stage == "due":
        return on_days([0]) if 0 in policy.reminder_days else None
    if channel == Message.Channel.IN_APP:
        first = max(policy.in_app_from_dpd, 1)
        return Q(**{f"{due}__lte": today - datetime.timedelta(days=first)})
    # SMS: the listed days, and from the repeat start every N days.
    listed = on_days([d for d in policy.sms_days if d > 0])
    start = policy.sms_repeat_from_dpd
    repeat = Q(**{f"{due}__lte": today - datetime.timedelta(days=start)}) & Q(ladder_step=0)
    return repeat if listed is None else listed | repeat


def ladder_template(stage: str, channel: str, language: str) -> TemplateVersion | None:
    """The newest version of the ladder's borrower template for `stage` on `channel` in `language`.

    The template is coded `ladder-<stage>-<channel>` or `ladder-<stage>-<channel>-<language>` and written
    in `language` (the built-in Chinese ones carry no suffix).
    """
    code = f"ladder-{stage}-{channel}"
    return (
        TemplateVersion.objects.select_related("template")
        .filter(
            template__code__in=[code, f"{code}-{language}"],
            template__language=language,
            template__audience=Message.Audience.BORROWER,
            template__channel=channel,
        )
        .order_by("-template__code", "-version")
        .first()
    )


def _message_select(
    policy: PolicyVersion,
    stage: str,
    channel: str,
    version: TemplateVersion,
    today: datetime.date,
    *,
    capped: bool = True,
    portfolio_id: int | None = None,
) -> QuerySet | None:
    dpd_q = ladder_dpd_q(policy, stage, channel, today)
    if dpd_q is None:
        return None
    stopped = ChannelStop.objects.filter(borrower=OuterRef("borrower_id"), channel=channel)
    # The daily cap: skip borrowers who already have today's message on this channel.
    counted = daily_cap_messages(borrower=OuterRef("borrower_id"), channel=channel, day=today, queueing=True)
    cap = daily_cap_q(counted, limit=LADDER_MESSAGES_PER_CHANNEL_PER_DAY) if capped else Q()
    recipient = (
        Concat(Value("app:"), F("borrower__external_ref"), output_field=CharField())
        if channel == Message.Channel.IN_APP
        else F("borrower__phone")
    )
    return (
        ladder_accounts(policy, today, portfolio_id=portfolio_id)
        .filter(dpd_q)
        .exclude(Exists(stopped))
        .filter(cap)
        .annotate(
            e_account=F("pk"),
            e_borrower=F("borrower_id"),
            e_recipient=recipient,
            e_zone=F("borrower__timezone"),
            e_body=body_expression(version, policy),
            e_key=Concat(
                Value("esc:"),
                Cast("pk", CharField()),
                Value(f":{today.isoformat()}:{channel}"),
                output_field=CharField(),
            ),
        )
        # Several due accounts of one borrower: one message, about the most overdue (the SQLite demo
        # keeps the first row of each borrower in Python instead, see `_insert_messages_row_by_row`).
        .order_by("borrower_id", "oldest_unpaid_due_date", "pk")
        .distinct(*(["borrower_id"] if connection.vendor == "postgresql" else []))
        .values("e_account", "e_borrower", "e_recipient", "e_zone", "e_body", "e_key")
    )


def _ladder_candidates(
    policy: PolicyVersion, today: datetime.date, ranks: dict[tuple[str, str], int], portfolio_id: int | None = None
) -> QuerySet[LoanAccount]:
    """Eligible accounts with, per channel, the rank of the stage that sends on it today (NULL: none)."""
    stage_of: dict[str, Case | Value] = {}
    for channel in CHANNELS:
        whens = [
            When(dpd_q, then=Value(rank))
            for (stage, stage_channel), rank in ranks.items()
            if stage_channel == channel and (dpd_q := ladder_dpd_q(policy, stage, channel, today)) is not None
        ]
        stage_of[f"e_{channel}_stage"] = Case(*whens, output_field=IntegerField()) if whens else Value(None)
    sends = Q(pk__in=[])
    for name in stage_of:
        sends |= Q(**{f"{name}__isnull": False})
    return (
        ladder_accounts(policy, today, portfolio_id=portfolio_id)
        .annotate(**stage_of)
        .filter(sends)
        .values("borrower_id", "oldest_unpaid_due_date", *stage_of, e_account=F("pk"))
    )


def _ladder_ctes(
    policy: PolicyVersion,
    today: datetime.date,
    ranks: dict[tuple[str, str], int],
    skipped: list[tuple[int, str, int]],
    prefix: str = "",
    portfolio_id: int | None = None,
) -> tuple[str, list]:
    """CTEs (to follow WITH) ending in `<prefix>sendable`: per borrower and channel, the account and stage rank
    that sends today; `<prefix>picked` is the same before the daily cap. The prefix lets a dry run put two
    policies' ladders side by side in one statement; `portfolio_id` puts one portfolio's accounts under `policy`."""
    candidates_sql, candidates_params = _ladder_candidates(policy, today, ranks, portfolio_id).query.sql_with_params()
    capped_sql, capped_params = daily_cap_probe_sql(
        borrower_sql="picked.borrower_id",
        channel_sql="picked.channel",
        day=today,
        limit=LADDER_MESSAGES_PER_CHANNEL_PER_DAY,
        queueing=True,
    )
    lanes = ", ".join(f"(%s, e.e_{channel}_stage)" for channel in CHANNELS)
    not_skipped = (
        "AND (borrower_id, channel, stage) NOT IN (SELECT * FROM unnest(%s::bigint[], %s::text[], %s::int[]))"
        if skipped
        else ""
    )
    p = prefix
    sql = f"""
        {p}candidates AS MATERIALIZED ({candidates_sql}),
        {p}lanes AS (
            SELECT e.e_account, e.borrower_id, e.oldest_unpaid_due_date, lane.channel, lane.stage
            FROM {p}candidates AS e CROSS JOIN LATERAL (VALUES {lanes}) AS lane (channel, stage)
            WHERE lane.stage IS NOT NULL
        ),
        {p}stage_winners AS (
            -- Several due accounts of one borrower: one message, about the most overdue.
            SELECT DISTINCT ON (borrower_id, channel, stage) e_account, borrower_id, channel, stage
            FROM {p}lanes AS lanes
            WHERE NOT EXISTS (
                SELECT FROM {ChannelStop._meta.db_table} AS stop
                WHERE stop.borrower_id = lanes.borrower_id AND stop.channel = lanes.channel
            ) {not_skipped}
            ORDER BY borrower_id, channel, stage, oldest_unpaid_due_date, e_account
        ),
        {p}picked AS (
            SELECT DISTINCT ON (borrower_id, channel) e_account, borrower_id, channel, stage
            FROM {p}stage_winners
            ORDER BY borrower_id, channel, stage
        ),
        {p}sendable AS (
            -- The daily cap: none if the borrower's message on the channel is already on its way today.
            SELECT picked.* FROM {p}picked AS picked
            LEFT JOIN LATERAL ({capped_sql}) AS capped ON TRUE
            WHERE capped.id IS NULL
        )
    """  # noqa: S608 - table names come from model metadata, values are parameters
    params = [*candidates_params, *CHANNELS]
    if skipped:
        params += [[row[0] for row in skipped], [row[1] for row in skipped], [row[2] for row in skipped]]
    return sql, [*params, *capped_params]


def _ladder_sql(
    policy: PolicyVersion, today: datetime.date, ranks: dict[tuple[str, str], int], skipped: list[tuple[int, str, int]]
) -> tuple[str, list]:
    """CTEs ending in `sendable`: per borrower and channel, the account and stage rank that sends today."""
    sql, params = _ladder_ctes(policy, today, ranks, skipped)
    return f"WITH {sql}", params


# Every (stage, channel) in ladder order, ranked once for all policies: a dry run compares two policies' stages.
LADDER_RANKS = {key: rank for rank, key in enumerate((stage, channel) for stage in STAGES for channel in CHANNELS)}


def ladder_selection_ctes(
    policy: PolicyVersion, today: datetime.date, *, prefix: str, portfolio_id: int | None = None
) -> tuple[str, list] | None:
    """For a dry run, writing nothing: CTEs (to follow WITH) ending in `<prefix>picked`, the day's messages the
    run under `policy` selects before the daily cap (the day's answer, whether or not today's run wrote it):
    (e_account, borrower_id, channel, stage), the stage ranked as in LADDER_RANKS; None when no template sends
    today. PostgreSQL only, as the run's own statement is. `portfolio_id`: that portfolio's accounts, put under
    `policy` (the dry run of a switch)."""
    versions = _usable_ladder_versions(policy, today)
    if not versions:
        return None
    ranks = {key: LADDER_RANKS[key] for key in versions}
    return _ladder_ctes(policy, today, ranks, [], prefix=prefix, portfolio_id=portfolio_id)


def ladder_selection_rows(
    policy: PolicyVersion, today: datetime.date, *, portfolio_id: int | None = None
) -> set[tuple[int, int, str, int]]:
    """The SQLite demo's way to the rows of `ladder_selection_ctes`' `picked`, writing nothing: stage by stage in
    ladder order, the first (most overdue) account of each borrower not yet picked on the channel."""
    picked: dict[tuple[int, str], tuple[int, int, str, int]] = {}
    for (stage, channel), version in _usable_ladder_versions(policy, today).items():
        for row in _message_select(policy, stage, channel, version, today, capped=False, portfolio_id=portfolio_id):
            key = (row["e_borrower"], channel)
            picked.setdefault(key, (row["e_account"], row["e_borrower"], channel, LADDER_RANKS[(stage, channel)]))
    return set(picked.values())


def _usable_ladder_versions(policy: PolicyVersion, today: datetime.date) -> dict[tuple[str, str], TemplateVersion]:
    language = policy.message_language
    templates = {(s, c, language): ladder_template(s, c, language) for s in STAGES for c in CHANNELS}
    return _usable_versions(policy, templates, today, EscalationStats())


def _insert_and_audit_sql(
    policy: PolicyVersion,
    today: datetime.date,
    versions: dict[tuple[str, str], TemplateVersion],
    ranks: dict[tuple[str, str], int],
) -> tuple[str, list]:
    """The CTEs after `sendable`: insert its messages and their audit events; then count both by channel."""
    body_sql, body_params = render_sql(policy, versions, ranks)
    version_sql = "CASE p.stage " + " ".join("WHEN %s THEN %s::bigint" for _ in versions) + " END"
    version_params = [value for key, version in versions.items() for value in (ranks[key], version.pk)]
    # One audit detail per template version, built here: the events join it rather than build jsonb per row.
    details = [
        (
            version.pk,
            json.dumps(
                {
                    "audience": Message.Audience.BORROWER,
                    "channel": channel,
                    "reason": "",
                    "source": "escalation",
                    "policy_version": policy.pk,
                    "template_version": version.pk,
                }
            ),
        )
        for (_, channel), version in versions.items()
    ]
    details_sql = ", ".join("(%s::bigint, %s::jsonb)" for _ in details)
    audit_sql, audit_params = audit_events_sql(
        rows="audited_rows",
        action="message_queued",
        object_type="message",
        object_id="audited_rows.id",
        persons=f"jsonb_build_array({person_key_sql('borrower', 'audited_rows.borrower_id')})",
        detail="audited_rows.detail",
    )
    sql = f"""
        inserted AS (
            INSERT INTO {Message._meta.db_table} (
                borrower_id, account_id, contact_id, audience, channel, recipient, recipient_timezone, body,
                template_version_id, status, status_reason, idempotency_key, policy_version_id, not_before,
                send_date, attempts, last_error, created_at, updated_at
            )
            SELECT p.borrower_id, p.e_account, NULL, 'borrower', p.channel,
                   CASE WHEN p.channel = %s THEN concat('app:', b.external_ref) ELSE b.phone END, b.timezone,
                   {body_sql}, {version_sql}, 'queued', '', 'esc:' || p.e_account || %s || p.channel, %s,
                   now(), %s, 0, '', now(), now()
            FROM sendable AS p
            JOIN {Borrower._meta.db_table} AS b ON b.id = p.borrower_id
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, borrower_id, channel, template_version_id
        ),
        audited_rows AS (
            SELECT inserted.id, inserted.borrower_id, detail.detail
            FROM inserted JOIN (VALUES {details_sql}) AS detail (version, detail)
                ON detail.version = inserted.template_version_id
        ),
        audited AS ({audit_sql})
        SELECT 'sendable', channel, NULL, count(*) FROM sendable GROUP BY channel
        UNION ALL
        SELECT 'inserted', channel, template_version_id, count(*) FROM inserted
        GROUP BY channel, template_version_id
    """  # noqa: S608 - table names come from model metadata, values are parameters
    params = [
        Message.Channel.IN_APP,
        *body_params,
        *version_params,
        f":{today.isoformat()}:",
        policy.pk,
        today,
        *[value for detail in details for value in detail],
        *audit_params,
    ]
    return sql, params


def _insert_ladder_postgresql(
    policy: PolicyVersion, today: datetime.date, versions: dict[tuple[str, str], TemplateVersion]
) -> dict[tuple[str, str], int]:
    """Write the day's messages under `policy` for all usable (stage, channel) at once; counts by stage and channel.

    One statement scans the book once. Per borrower and channel the earliest stage in `STAGES` order wins and,
    within it, the most overdue account: what stage-by-stage statements would write. If a winner's key was
    taken earlier in the day (by a message since suppressed or failed), that stage writes nothing for the
    borrower and a later stage may: the statement is repeated without such stages (only ever on a rerun).
    """
    ranks = {key: rank for rank, key in enumerate(versions)}
    insert_sql, insert_params = _insert_and_audit_sql(policy, today, versions, ranks)
    stage_of_version = {(key[1], version.pk): key for key, version in versions.items()}
    counts: dict[tuple[str, str], int] = dict.fromkeys(versions, 0)
    skipped: list[tuple[int, str, int]] = []
    while True:
        ladder_sql, ladder_params = _ladder_sql(policy, today, ranks, skipped)
        with connection.cursor() as cursor:
            cursor.execute(f"{ladder_sql}, {insert_sql}", [*ladder_params, *insert_params])
            rows = cursor.fetchall()
        for kind, channel, version_pk, n in rows:
            if kind == "inserted":
                counts[stage_of_version[(channel, version_pk)]] += n
        sendable = sum(n for kind, _, _, n in rows if kind == "sendable")
        if sendable == sum(n for kind, _, _, n in rows if kind == "inserted"):
            return counts
        # Some winners' keys were taken: they are exactly what is still sendable now (the rest is on its way).
        with connection.cursor() as cursor:
            cursor.execute(f"{ladder_sql} SELECT borrower_id, channel, stage FROM sendable", ladder_params)  # noqa: S608
            skipped += cursor.fetchall()


def _insert_messages_row_by_row(
    select: QuerySet, *, channel: str, version: TemplateVersion, policy: PolicyVersion, today: datetime.date
) -> int:
    """The SQLite demo's way to the same rows: SQLite has neither DISTINCT ON nor INSERT in a CTE.

    Its single writer makes the existence check safe; a demo book is small enough to write row by row.
    """
    rows: dict[int, dict] = {}
    for row in select:
        rows.setdefault(row["e_borrower"], row)
    existing = set(
        Message.objects.filter(idempotency_key__in=[row["e_key"] for row in rows.values()]).values_list(
            "idempotency_key", flat=True
        )
    )
    now = timezone.now()
    created = Message.objects.bulk_create(
        Message(
            borrower_id=row["e_borrower"],
            account_id=row["e_account"],
            audience=Message.Audience.BORROWER,
            channel=channel,
            recipient=row["e_recipient"],
            recipient_timezone=row["e_zone"],
            body=row["e_body"],
            template_version=version,
            status=Message.Status.QUEUED,
            idempotency_key=row["e_key"],
            policy_version=policy,
            not_before=now,
            send_date=today,
        )
        for row in rows.values()
        if row["e_key"] not in existing
    )
    for message in created:
        audit_record(
            action="message_queued",
            object_type="message",
            object_id=message.pk,
            persons=[person_key("borrower", message.borrower_id)],
            detail={
                "audience": message.audience,
                "channel": channel,
                "reason": "",
                "source": "escalation",
                "policy_version": policy.pk,
                "template_version": version.pk,
            },
        )
    return len(created)


def _serialise_escalation_postgresql(lock: int = ESCALATION_LOCK) -> None:
    """Take an escalation lock for this transaction and tune its session for the big statements."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
        # The big statements are cheap to run but look costly to the planner: compiling them with JIT
        # took most of the run's time. More sort memory keeps DISTINCT ON off the disk.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")


def _usable_versions(
    policy: PolicyVersion,
    templates: dict[tuple[str, str, str], TemplateVersion | None],
    today: datetime.date,
    stats: EscalationStats,
) -> dict[tuple[str, str], TemplateVersion]:
    """The template version of each (stage, channel) that sends today under `policy`, in ladder order.

    Templates that cannot be used are noted in `stats.skipped`.
    """
    profile = firewall_profile_for(policy)
    usable: dict[tuple[str, str], TemplateVersion] = {}
    for stage in STAGES:
        for channel in CHANNELS:
            version = templates[(stage, channel, policy.message_language)]
            label = f"{policy.profile.code} {stage} {channel}"
            if version is None or template_placeholders_unknown(version.body):
                stats.skipped.append(f"{label}: no usable template in {policy.message_language}")
                continue
            # The template's own words are linted: the profile's hotline and opt-out line are checked where set.
            sample = fill_placeholders(
                version.body, borrower_name="张*", lender_name=policy.lender_name, hotline="", opt_out=""
            )
            if lint_message(sample, audience=Message.Audience.BORROWER, profile=profile):
                stats.skipped.append(f"{label}: template fails the firewall")
                continue
            if ladder_dpd_q(policy, stage, channel, today) is not None:
                usable[(stage, channel)] = version
    return usable


def escalation_run(
    *,
    today: datetime.date | None = None,
    at: datetime.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> EscalationStats:
    """Write the day's ladder for every account due within 3 days or overdue; idempotent per day.

    Each profile's ladder follows its version in force at `at` (default: the run's start).

    On PostgreSQL, unless the caller holds a transaction open, the call tasks are written on a second
    connection while this one writes the messages: they touch different tables and each part is
    idempotent per day on its own, so two cores share the run. Should one part fail, the other stands
    and the next run completes the day.
    """
    today = today or lender_today()
    stats = EscalationStats(today=today)
    report = progress or (lambda line: None)
    policies = [p for p in current_policy_versions(at=at or timezone.now()).values() if p.profile.portfolios.exists()]
    beside = (
        _CallTasksBeside(policies, today)
        if connection.vendor == "postgresql" and not connection.in_atomic_block
        else None
    )
    if beside:
        beside.start()
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Elsewhere (the SQLite demo) the database's single writer already runs one escalation at a time.
                _serialise_escalation_postgresql()
            templates = {
                (s, c, language): ladder_template(s, c, language)
                for language in {policy.message_language for policy in policies}
                for s in STAGES
                for c in CHANNELS
            }
            for policy in policies:
                versions = _usable_versions(policy, templates, today, stats)
                if connection.vendor == "postgresql":
                    counts = _insert_ladder_postgresql(policy, today, versions)
                else:
                    counts = {
                        (stage, channel): _insert_messages_row_by_row(
                            _message_select(policy, stage, channel, version, today),
                            channel=channel,
                            version=version,
                            policy=policy,
                            today=today,
                        )
                        for (stage, channel), version in versions.items()
                    }
                for (stage, channel), written in counts.items():
                    label = f"{policy.profile.code} {stage} {channel}"
                    stats.messages += written
                    stats.steps.append(f"{label}: {written}")
                    report(f"{label}: {written} messages")
            call_tasks = None if beside else write_call_tasks(policies, today)
            if stats.messages:
                transaction.on_commit(kick_relay)
    except BaseException:
        if beside:
            beside.join()  # this half's error is the one to report; the call-task half's is secondary
        raise
    _count_call_tasks(stats, report, beside.result() if beside else call_tasks)
    return stats


def _count_call_tasks(stats: EscalationStats, report: Callable[[str], None], counts: CallTaskCounts) -> None:
    stats.call_tasks_cancelled = counts.cancelled
    stats.steps.append(f"call tasks cancelled: {counts.cancelled}")
    report(f"call tasks cancelled (paid, paused or stopped): {counts.cancelled}")
    for policy, written in counts.written:
        stats.call_tasks += written
        stats.steps.append(f"{policy.profile.code} call tasks: {written}")
        report(f"{policy.profile.code} call tasks: {written}")


class _CallTasksBeside(threading.Thread):
    """Every policy's call tasks in one transaction on this thread's own connection."""

    def __init__(self, policies: list[PolicyVersion], today: datetime.date) -> None:
        super().__init__(name="escalation-call-tasks", daemon=True)
        self.policies, self.today = policies, today
        self.counts = CallTaskCounts(0, [])
        self.error: BaseException | None = None

    def run(self) -> None:
        """Write the call tasks; keep the counts, or the error for the caller's thread."""
        try:
            with transaction.atomic():
                _serialise_escalation_postgresql(CALL_TASK_LOCK)
                self.counts = write_call_tasks(self.policies, self.today)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            self.error = exc
        finally:
            connection.close()  # this thread's own connection

    def result(self) -> CallTaskCounts:
        """Wait for the thread; its counts, or its error raised here."""
        self.join()
        if self.error:
            raise self.error
        return self.counts
