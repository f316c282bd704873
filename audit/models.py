"""The audit log: one row per event, its place in the hash chain, the sealer's head and verify runs."""

from typing import Any

from django.db import models
from django.db.models import Func, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class CurrentTransactionId(Func):
    """The inserting transaction's 64-bit id on PostgreSQL (0 on SQLite, which has one writer at a time)."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        return "0", []

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        return "(pg_current_xact_id()::text::bigint)", []


class AuditEvent(models.Model):
    """One audited action; never updated except once, by sealing (seq from NULL to its place), never deleted.

    No index names `seq`, so the seal's update is HOT on PostgreSQL (no index entries are written) and
    finds room on its own page (fillfactor 50, migration 0006). Its place is unique through ChainEntry.
    """

    seq = models.BigIntegerField(_("sequence"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_default=Now())
    # Plain values, not foreign keys: the log must outlive and not depend on the rows it names.
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=32, blank=True)
    action = models.CharField(_("action"), max_length=40)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    persons = models.JSONField(_("persons"), default=list, blank=True)
    fields = models.JSONField(_("fields shown"), default=list, blank=True)
    purpose = models.CharField(_("purpose"), max_length=40, blank=True)
    outcome = models.CharField(_("outcome"), max_length=40, default="ok")
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # Which transaction wrote the event: the sealer finds pending events from the oldest transaction
    # that might still have been running at its previous seal (ChainHead.horizon) on.
    txid = models.BigIntegerField(_("transaction id"), db_default=CurrentTransactionId(), editable=False)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["actor_username", "id"], name="audit_actor_idx"),
            models.Index(fields=["action", "id"], name="audit_action_idx"),
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx"),
            models.Index(fields=["occurred_at"], name="audit_occurred_idx"),
            models.Index(fields=["txid"], name="audit_txid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"

    @property
    def object_label(self) -> str:
        """`<model>:<id>`, or empty when the event names no object."""
        return f"{self.object_type}:{self.object_id}" if self.object_type else ""


class ChainEntry(models.Model):
    """An event's place in the chain: written once by the seal that gives the event its seq, never changed."""

    seq = models.BigIntegerField(_("sequence"), primary_key=True)
    event_id = models.BigIntegerField(_("event id"))
    # The exact hashed bytes (audit.encoding) and SHA-256(previous hash || entry).
    entry = models.BinaryField(_("canonical entry"))
    hash = models.BinaryField(_("chain hash"))

    class Meta:
        verbose_name = _("chain entry")
        verbose_name_plural = _("chain entries")

    def __str__(self) -> str:
        return f"seq {self.seq}: event {self.event_id}"


class ChainHead(models.Model):
    """The sealer's one-row state: last seq, its chain hash and the Merkle frontier (a cache verify never trusts)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.BinaryField(default=bytes(32))
    # Roots of the perfect subtrees that make up the tree of `seq` leaves, largest first, 32 bytes each.
    frontier = models.BinaryField(default=b"")
    sealed_at = models.DateTimeField(null=True, blank=True)
    # PostgreSQL: every event the last seal could not see was written by this transaction id or a later one.
    horizon = models.BigIntegerField(default=0)
    # The PostgreSQL cluster (system identifier) whose transaction counter `horizon` was read from: a head
    # restored into another cluster says nothing about that cluster's transactions.
    cluster = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("chain head")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_chainhead_single_row")]

    def __str__(self) -> str:
        return f"chain head at {self.seq}"


class VerificationRun(models.Model):
    """The result of one `verify_audit` run, shown at /audit/verify/."""

    class Kind(models.TextChoices):
        FULL = "full", _("full")
        INCREMENTAL = "incremental", _("incremental")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.FULL)
    # An incremental run checked what was sealed after this seq (the tree a previous run verified).
    after_seq = models.BigIntegerField(_("after seq"), default=0)
    requested_by = models.CharField(_("requested by"), max_length=150, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), db_default=Now())
    ok = models.BooleanField(_("intact"))
    events_checked = models.BigIntegerField(_("events checked"), default=0)
    checkpoints_checked = models.IntegerField(_("checkpoints checked"), default=0)
    first_bad_seq = models.BigIntegerField(_("first bad seq"), null=True, blank=True)
    bad_checkpoints = models.JSONField(_("bad checkpoints"), default=list, blank=True)
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        verbose_name = _("verification run")
        verbose_name_plural = _("verification runs")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} verification {self.pk}: {'ok' if self.ok else 'FAILED'}"


PERSON_KEY_REGEX = r"^(borrower|contact):[0-9]+$"


class LegalHold(models.Model):
    """A legal hold on one person's audit events: while it stands, no month of events naming them may leave the
    database. Set by an auditor with a reason; never changed or deleted (lifting it is a LegalHoldLift)."""

    person = models.CharField(_("person"), max_length=40, help_text=_("borrower:<id> or contact:<id>"))
    reason = models.TextField(_("reason"), max_length=1000)
    set_by = models.CharField(_("set by"), max_length=150)
    set_at = models.DateTimeField(_("set at"), db_default=Now())

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        indexes = [models.Index(fields=["person"], name="audit_legalhold_person_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(person__regex=PERSON_KEY_REGEX), name="audit_legalhold_person_key"),
            models.CheckConstraint(condition=~Q(reason="") & ~Q(set_by=""), name="audit_legalhold_reason_and_who"),
        ]

    def __str__(self) -> str:
        return f"legal hold on {self.person}"


class LegalHoldLift(models.Model):
    """The lifting of one legal hold, by an auditor with a reason; a hold is lifted once, never un-lifted."""

    hold = models.OneToOneField(LegalHold, on_delete=models.PROTECT, related_name="lift", verbose_name=_("hold"))
    reason = models.TextField(_("reason"), max_length=1000)
    lifted_by = models.CharField(_("lifted by"), max_length=150)
    lifted_at = models.DateTimeField(_("lifted at"), db_default=Now())

    class Meta:
        verbose_name = _("legal hold lift")
        verbose_name_plural = _("legal hold lifts")
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason="") & ~Q(lifted_by=""), name="audit_legalholdlift_reason_and_who"
            ),
        ]

    def __str__(self) -> str:
        return f"lift of {self.hold}"


class DetachRequest(models.Model):
    """A request to detach one archived month of events from the database; a second auditor decides it, and the
    schema owner then detaches it once its archive verifies and no legal hold covers anyone in it."""

    month = models.DateField(_("month"))
    reason = models.TextField(_("reason"), max_length=1000)
    requested_by = models.CharField(_("requested by"), max_length=150)
    requested_at = models.DateTimeField(_("requested at"), db_default=Now())

    class Meta:
        verbose_name = _("detach request")
        verbose_name_plural = _("detach requests")
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="audit_detachrequest_a_month"),
            models.CheckConstraint(
                condition=~Q(reason="") & ~Q(requested_by=""), name="audit_detachrequest_reason_and_who"
            ),
        ]

    def __str__(self) -> str:
        return f"detach {self.month:%Y-%m}"


class DetachDecision(models.Model):
    """The second auditor's decision on a detach request (never the requester's: a trigger holds that too)."""

    request = models.OneToOneField(
        DetachRequest, on_delete=models.PROTECT, related_name="decision", verbose_name=_("request")
    )
    approved = models.BooleanField(_("approved"))
    reason = models.TextField(_("reason"), max_length=1000)
    decided_by = models.CharField(_("decided by"), max_length=150)
    decided_at = models.DateTimeField(_("decided at"), db_default=Now())

    class Meta:
        verbose_name = _("detach decision")
        verbose_name_plural = _("detach decisions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason="") & ~Q(decided_by=""), name="audit_detachdecision_reason_and_who"
            ),
        ]

    def __str__(self) -> str:
        return f"{'approved' if self.approved else 'rejected'}: {self.request}"
