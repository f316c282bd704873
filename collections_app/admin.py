"""Admin for borrowers, accounts and their history: personal fields masked, every page audited.

Personal values (names, phones, ID numbers) are read-only here and change by import only; the admin shows
them masked through the one masking helper. Every changelist and change page writes an audit event naming
the persons and fields it shows. Assigning accounts goes through `account_assign`, which moves the object
permission and audits the change.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.admin_mixins import AuditedAdmin
from audit.record import person_key
from collections_app import masking
from collections_app.dpd import BUCKETS, BUCKETS_BY_CODE, DaysPastDue, bucket_for, lender_today
from collections_app.forms import AssignOfficerForm
from collections_app.models import (
    Borrower,
    Contact,
    Flag,
    Interaction,
    LoanAccount,
    Payment,
    PlanInstalment,
    Portfolio,
    PromiseToPay,
    RepaymentPlan,
    UserPreference,
)
from collections_app.policy_changes import policy_switch_propose
from collections_app.services.accounts import account_assign


def _borrower_of(obj: Any) -> list[str]:
    return [person_key("borrower", obj.account.borrower_id)]


class BucketListFilter(admin.SimpleListFilter):
    """Filter accounts by DPD bucket, counted from today in the lender's time zone."""

    title = _("DPD bucket")
    parameter_name = "bucket"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        """Every bucket, and paid accounts."""
        return [(bucket.code, bucket.label) for bucket in BUCKETS] + [("paid", _("paid"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Accounts in the chosen bucket, as a due-date range the index can serve."""
        code = self.value()
        if code == "paid":
            return queryset.filter(oldest_unpaid_due_date__isnull=True)
        if code in BUCKETS_BY_CODE:
            return queryset.filter(BUCKETS_BY_CODE[code].due_date_q(lender_today()))
        return queryset


@admin.register(Borrower)
class BorrowerAdmin(AuditedAdmin):
    """Borrowers: personal fields masked and read-only (they change by import)."""

    list_display = ("external_ref", "masked_name", "masked_phone", "masked_id_number", "timezone")
    list_filter = ("timezone", ("cease_requested_at", admin.EmptyFieldListFilter))
    # A search by phone or ID number is audited by its shape, never its value (AuditedAdmin).
    search_fields = ("external_ref", "=phone", "=id_number", "=accounts__account_number")
    fields = ("external_ref", "masked_name", "masked_phone", "masked_id_number", "timezone", "cease_requested_at")
    readonly_fields = ("external_ref", "masked_name", "masked_phone", "masked_id_number", "cease_requested_at")
    audit_fields = ("borrower.name", "borrower.phone", "borrower.id_number")

    def audit_persons(self, obj: Borrower) -> list[str]:
        """The borrower."""
        return [person_key("borrower", obj.pk)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Borrowers arrive by import."""
        return False

    @admin.display(description=_("name"))
    def masked_name(self, obj: Borrower) -> str:
        """The name, masked."""
        return masking.mask_name(obj.name)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Borrower) -> str:
        """The phone, masked."""
        return masking.mask_phone(obj.phone)

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Borrower) -> str:
        """The ID number, masked."""
        return masking.mask_id_number(obj.id_number)


@admin.register(Contact)
class ContactAdmin(AuditedAdmin):
    """Contacts: name and phone masked and read-only (they change by import)."""

    list_display = ("pk", "borrower", "masked_name", "relationship", "masked_phone", "consent_at")
    list_filter = ("relationship", ("consent_at", admin.EmptyFieldListFilter))
    search_fields = ("=phone", "borrower__external_ref")
    fields = ("borrower", "masked_name", "relationship", "masked_phone", "timezone", "consent_basis", "consent_at")
    readonly_fields = ("borrower", "masked_name", "masked_phone", "consent_basis", "consent_at")
    audit_fields = ("contact.name", "contact.phone", "contact.relationship")

    def audit_persons(self, obj: Contact) -> list[str]:
        """The contact."""
        return [person_key("contact", obj.pk)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Contacts arrive by import, with the borrower's consent."""
        return False

    @admin.display(description=_("name"))
    def masked_name(self, obj: Contact) -> str:
        """The name, masked."""
        return masking.mask_name(obj.name)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Contact) -> str:
        """The phone, masked."""
        return masking.mask_phone(obj.phone)


@admin.register(LoanAccount)
class LoanAccountAdmin(AuditedAdmin):
    """Loan accounts: read-only (the core system is the source), assigned to officers by a bulk action."""

    list_display = (
        "account_number",
        "borrower_name",
        "portfolio",
        "officer",
        "outstanding",
        "oldest_unpaid_due_date",
        "dpd",
        "bucket",
    )
    list_filter = (BucketListFilter, "portfolio", "officer")
    list_select_related = ("borrower", "portfolio", "officer")
    search_fields = ("account_number", "borrower__external_ref")
    readonly_fields = (
        "account_number",
        "borrower",
        "borrower_name",
        "portfolio",
        "officer",
        "principal",
        "outstanding",
        "oldest_unpaid_due_date",
        "dpd",
        "bucket",
        "updated_at",
    )
    fields = readonly_fields
    actions = ("assign_to_officer",)
    audit_fields = ("borrower.name",)

    def audit_persons(self, obj: LoanAccount) -> list[str]:
        """The account's borrower."""
        return [person_key("borrower", obj.borrower_id)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[LoanAccount]:
        """Accounts with their DPD, computed in SQL from today's date in the lender's time zone."""
        return super().get_queryset(request).annotate(dpd_value=DaysPastDue(lender_today()))

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Accounts arrive by import."""
        return False

    @admin.display(description=_("borrower"))
    def borrower_name(self, obj: LoanAccount) -> str:
        """The borrower's name, masked."""
        return masking.mask_name(obj.borrower.name)

    @admin.display(description=_("DPD"), ordering="-oldest_unpaid_due_date")
    def dpd(self, obj: LoanAccount) -> int | None:
        """Days past due today."""
        return obj.dpd_value

    @admin.display(description=_("bucket"))
    def bucket(self, obj: LoanAccount) -> str:
        """The DPD bucket."""
        bucket = bucket_for(obj.dpd_value)
        return str(bucket.label) if bucket else "—"

    @admin.action(description=_("Assign to officer"), permissions=("change",))
    def assign_to_officer(self, request: HttpRequest, queryset: QuerySet[LoanAccount]) -> HttpResponse | None:
        """Choose a case officer on an intermediate page, then move the accounts' object permission."""
        form = AssignOfficerForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            officer = form.cleaned_data["officer"]
            changed = account_assign(accounts=list(queryset), officer=officer, actor=request.user)
            self.message_user(
                request,
                ngettext("%(count)d account reassigned.", "%(count)d accounts reassigned.", changed)
                % {"count": changed},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign to officer"),
            "opts": self.model._meta,
            "accounts": queryset.order_by("account_number"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "collections_app/admin/assign_officer.html", context)


@admin.register(Payment)
class PaymentAdmin(AuditedAdmin):
    """Payments as the core system reported them: read-only."""

    list_display = ("reference", "account", "paid_at", "amount")
    list_filter = ("paid_at", "account__portfolio")
    list_select_related = ("account",)
    search_fields = ("reference", "account__account_number")
    date_hierarchy = "paid_at"
    audit_fields = ("payment.amount", "payment.paid_at")
    audit_persons = staticmethod(_borrower_of)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Payments arrive by import."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        """Payments are facts from the core system."""
        return False


@admin.register(PromiseToPay)
class PromiseToPayAdmin(AuditedAdmin):
    """Promises officers recorded: read-only here, their status is derived from payments."""

    list_display = ("account", "promised_date", "amount", "created_by", "created_at")
    list_filter = ("promised_date", "account__portfolio")
    list_select_related = ("account", "created_by")
    search_fields = ("account__account_number",)
    audit_fields = ("promise.amount", "promise.promised_date")
    audit_persons = staticmethod(_borrower_of)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Officers record promises on the account page."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: PromiseToPay | None = None) -> bool:
        """A promise is a record of what was said."""
        return False


class PlanInstalmentInline(admin.TabularInline):
    """A plan's instalments, read-only like the plan."""

    model = PlanInstalment
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A changed agreement is a new proposal, decided by a team lead."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """An instalment is paid by a payment, not by an edit."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Instalments stay; a changed agreement is a new plan."""
        return False


@admin.register(RepaymentPlan)
class RepaymentPlanAdmin(AuditedAdmin):
    """Repayment plans and their instalments."""

    list_display = ("account", "status", "agreed_at", "created_by")
    list_filter = ("status", "account__portfolio")
    list_select_related = ("account", "created_by")
    search_fields = ("account__account_number",)
    raw_id_fields = ("account",)
    readonly_fields = ("created_by",)
    inlines = (PlanInstalmentInline,)
    audit_fields = ("plan.instalments",)
    audit_persons = staticmethod(_borrower_of)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Officers propose plans on the account page and team leads decide them: never one person here."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: RepaymentPlan | None = None) -> bool:
        """A plan's status moves only through its decision and its instalments' payments."""
        return False


@admin.register(Interaction)
class InteractionAdmin(AuditedAdmin):
    """Interactions officers logged: read-only."""

    list_display = ("account", "occurred_at", "channel", "outcome", "officer")
    list_filter = ("outcome", "channel", "officer", "occurred_at")
    list_select_related = ("account", "officer")
    search_fields = ("account__account_number",)
    date_hierarchy = "occurred_at"
    audit_fields = ("interaction.outcome", "interaction.note")
    audit_persons = staticmethod(_borrower_of)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Officers log interactions on the account page."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Interaction | None = None) -> bool:
        """An interaction is a record of what happened."""
        return False


@admin.register(Flag)
class FlagAdmin(AuditedAdmin):
    """Dispute and hardship flags: opened and closed by officers, with reasons, on the account page."""

    list_display = ("account", "kind", "opened_at", "opened_by", "closed_at", "closed_by")
    list_filter = ("kind", ("closed_at", admin.EmptyFieldListFilter), "account__portfolio")
    list_select_related = ("account", "opened_by", "closed_by")
    search_fields = ("account__account_number",)
    audit_fields = ("flag.opened_reason", "flag.closed_reason")
    audit_persons = staticmethod(_borrower_of)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Flags are opened with an audited reason on the account page."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Flag | None = None) -> bool:
        """Flags are closed with an audited reason on the account page."""
        return False


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    """Portfolios group accounts; each has the policy profile its accounts' rules read."""

    list_display = ("code", "name", "kind", "policy_profile")
    list_filter = ("kind", "policy_profile")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request: HttpRequest, obj: Portfolio | None = None) -> tuple[str, ...]:
        """A portfolio's kind is chosen once (or taken from its first profile); its profiles must be of that kind."""
        return () if obj is None else ("kind",)

    def save_model(self, request: HttpRequest, obj: Portfolio, form: forms.ModelForm, change: bool) -> None:
        """Save the portfolio; another profile for an existing one is filed as a proposal, not saved.

        The form has checked the profile's kind; a risk approver who did not propose it decides the switch.
        """
        if change and "policy_profile" in form.changed_data:
            new_profile = obj.policy_profile
            obj.policy_profile_id = form.initial["policy_profile"]
            try:
                proposal = policy_switch_propose(actor=request.user, portfolio=obj, new_profile=new_profile)
            except ValidationError as exc:
                raise PermissionDenied("; ".join(exc.messages)) from exc
            self.message_user(
                request,
                _("Proposal #%(id)d filed: the portfolio switches profile once another risk approver approves it.")
                % {"id": proposal.pk},
                messages.SUCCESS,
            )
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Portfolio | None = None) -> bool:
        """Accounts and decisions refer to their portfolio."""
        return False


@admin.register(UserPreference)
class UserPreferenceAdmin(AuditedAdmin):
    """Each user's UI language (a staff member's own setting: its pages are audited too)."""

    list_display = ("user", "language")
    list_filter = ("language",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


from collections_app.messaging import admin as messaging_admin  # noqa: E402, F401
