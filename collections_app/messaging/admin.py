"""Admin for message templates, policy profiles, opt-outs, stops, call tasks and messages.

Templates and policies are versioned: saving a template adds a version through the services (the firewall runs on
its text); saving a policy version files a policy proposal instead, decided at /review/policies/ by a risk
approver who did not propose it. Each step is audited. A family version waits for a risk approver who did not write it,
who decides it at /review/templates/ (with the rendered text, the diff and the firewall's findings), not here.
Messages, stops and call tasks are read-only here; phone numbers are masked.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import AuditedAdmin
from audit.record import person_key
from collections_app import masking
from collections_app.messaging.consent import phone_opt_out_record
from collections_app.messaging.message_templates import template_body_problems, template_version_create
from collections_app.models import (
    CallTask,
    ChannelStop,
    Message,
    MessageTemplate,
    PhoneOptOut,
    PolicyProfile,
    PolicyVersion,
    TemplateVersion,
)
from collections_app.models.accounts import e164_validator
from collections_app.policy_changes import policy_change_propose
from collections_app.services.profiles import policy_changeable_fields


def _masked(phone: str) -> str:
    return masking.mask_phone(phone) if phone.startswith("+") else phone


# --- templates ---------------------------------------------------------------------------------------------------


class MessageTemplateForm(forms.ModelForm):
    """A template and the body of its next version; the firewall's findings are form errors."""

    body = forms.CharField(
        label=_("body"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        max_length=1000,
        help_text=_(
            "Placeholders: {borrower_name} (masked), {lender_name}, {hotline}, {opt_out}. "
            "Saving a changed body adds a new version; a family version must be approved again."
        ),
    )

    class Meta:
        model = MessageTemplate
        fields = ("code", "name", "audience", "channel", "language", "firewall_profile")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.current_version if self.instance.pk else None
        if current is not None:
            self.fields["body"].initial = current.body

    def clean(self) -> dict[str, Any]:
        """Refuse a body with unknown placeholders or any firewall finding, listing each."""
        data = super().clean()
        body = data.get("body")
        audience = data.get("audience") or self.instance.audience
        profile = data.get("firewall_profile") or self.instance.firewall_profile
        if body and audience:
            for problem in template_body_problems(audience=audience, firewall_profile=profile, body=body):
                self.add_error("body", problem)
        return data


class TemplateVersionInline(admin.TabularInline):
    """A template's versions, newest first; read-only (risk approvers decide them at /review/templates/)."""

    model = TemplateVersion
    extra = 0
    can_delete = False
    fields = ("version", "body", "created_by", "created_at", "approved_by", "approved_at", "rejected_by", "rejected_at")
    readonly_fields = fields
    ordering = ("-version",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Versions are added by saving the template."""
        return False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """Templates: saving a changed body adds a version through `template_version_create`."""

    form = MessageTemplateForm
    list_display = ("code", "name", "audience", "channel", "language", "firewall_profile", "current_status")
    list_filter = ("audience", "channel", "language")
    search_fields = ("code", "name")
    inlines = (TemplateVersionInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: MessageTemplate | None = None) -> tuple[str, ...]:
        """The audience and channel are fixed once a template exists: its versions were checked for them."""
        return ("code", "audience", "channel") if obj is not None else ()

    @admin.display(description=_("newest version"))
    def current_status(self, obj: MessageTemplate) -> str:
        """The newest version and whether it is usable."""
        current = obj.current_version
        if current is None:
            return "-"
        if current.is_rejected:
            return f"v{current.version} ({_('rejected')})"
        if obj.audience == Message.Audience.FAMILY and not current.is_approved:
            return f"v{current.version} ({_('awaiting approval')})"
        return f"v{current.version}"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Sent messages point at their template's versions: nothing is deleted."""
        return False

    def save_model(self, request: HttpRequest, obj: MessageTemplate, form: MessageTemplateForm, change: bool) -> None:
        """Save the template and, when the body changed, its next version (audited as template_changed)."""
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            current = obj.current_version
            body = form.cleaned_data["body"]
            if current is None or current.body != body:
                try:
                    template_version_create(template=obj, body=body, actor=request.user)
                except ValidationError as exc:  # a race with another edit: the form already checked the text
                    raise PermissionDenied("; ".join(exc.messages)) from exc


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    """Template versions, read-only; risk approvers decide family versions at /review/templates/."""

    list_display = (
        "template",
        "version",
        "audience",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
        "rejected_by",
        "rejected_at",
    )
    list_filter = ("template__audience", ("approved_at", admin.EmptyFieldListFilter))
    search_fields = ("template__code",)
    readonly_fields = (
        "template",
        "version",
        "body",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
        "rejected_by",
        "rejected_at",
        "decision_reason",
    )

    @admin.display(description=_("audience"))
    def audience(self, obj: TemplateVersion) -> str:
        """The template's audience."""
        return obj.template.get_audience_display()

    def get_queryset(self, request: HttpRequest) -> QuerySet[TemplateVersion]:
        """With the template and users in one query."""
        return super().get_queryset(request).select_related("template", "created_by", "approved_by", "rejected_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Versions are added by saving the template."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A version never changes; an edit is a new version."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Sent messages point at their version."""
        return False


# --- policy profiles -----------------------------------------------------------------------------------------------


class PolicyVersionInline(admin.TabularInline):
    """A profile's versions, newest first; open one to propose a change from it."""

    model = PolicyVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("version", "effective_from", "created_by", "firewall_mode", "send_window_start", "send_window_end")
    readonly_fields = fields
    ordering = ("-version",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Versions come from editing the newest one."""
        return False


@admin.register(PolicyProfile)
class PolicyProfileAdmin(admin.ModelAdmin):
    """Policy profiles; their numbers live in versions."""

    list_display = ("code", "name", "kind")
    inlines = (PolicyVersionInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: PolicyProfile | None = None) -> tuple[str, ...]:
        """A profile's kind is chosen once: its versions' legal floors depend on it."""
        return () if obj is None else ("kind",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Decisions record the versions they were made under."""
        return False


class PolicyVersionProposalForm(forms.ModelForm):
    """A version's values, edited into a proposal; the legal floors and the firewall check them as form errors."""

    proposal_effective_from = forms.SplitDateTimeField(
        label=_("proposed change in force from"),
        required=False,
        widget=AdminSplitDateTime,
        help_text=_("Empty: as soon as a risk approver who did not propose it approves it."),
    )

    class Meta:
        model = PolicyVersion
        fields = policy_changeable_fields()


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    """Saving a version never changes it, nor adds one: the edit is filed as a policy proposal (policy_proposed),
    which a risk approver who did not propose it decides at /review/policies/."""

    form = PolicyVersionProposalForm
    list_display = ("profile", "version", "effective_from", "firewall_mode", "send_window_start", "created_at")
    list_filter = ("profile",)
    readonly_fields = ("profile", "version", "created_at", "created_by", "effective_from")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """A new version starts from an existing one: edit it."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Decisions record the versions they were made under."""
        return False

    def save_model(self, request: HttpRequest, obj: PolicyVersion, form: forms.ModelForm, change: bool) -> None:
        """File the edited values as a proposal; no version is written until it is approved."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in policy_changeable_fields()}
        if not changes:
            return
        try:
            proposal = policy_change_propose(
                actor=request.user,
                profile=obj.profile,
                changes=changes,
                effective_from=form.cleaned_data.get("proposal_effective_from"),
            )
        except ValidationError as exc:  # the time, or a race with another change: the form checked the values
            raise PermissionDenied("; ".join(exc.messages)) from exc
        request._policy_proposal = proposal

    def response_change(self, request: HttpRequest, obj: PolicyVersion) -> HttpResponse:
        """Say what was filed (not "changed"), and go back to the versions."""
        proposal = getattr(request, "_policy_proposal", None)
        if proposal is None:
            self.message_user(request, _("Nothing was changed, so nothing was proposed."), messages.WARNING)
        else:
            self.message_user(
                request,
                _("Proposal #%(id)d filed: it takes effect once another risk approver approves it.")
                % {"id": proposal.pk},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:collections_app_policyversion_changelist"))


# --- opt-outs, stops, call tasks, messages -------------------------------------------------------------------------


class PhoneOptOutForm(forms.ModelForm):
    """An opt-out an officer heard on the phone: the number in E.164."""

    phone = forms.CharField(label=_("phone"), max_length=16, validators=[e164_validator])

    class Meta:
        model = PhoneOptOut
        fields = ("phone",)


@admin.register(PhoneOptOut)
class PhoneOptOutAdmin(AuditedAdmin):
    """Opted-out numbers, masked; adding one goes through `phone_opt_out_record` (audited as opt_out)."""

    form = PhoneOptOutForm
    list_display = ("masked_phone", "source", "received_at", "recorded_by")
    list_filter = ("source",)
    audit_fields = ("phoneoptout.phone",)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: PhoneOptOut) -> str:
        """The number, masked."""
        return _masked(obj.phone)

    def get_fields(self, request: HttpRequest, obj: PhoneOptOut | None = None) -> tuple[str, ...]:
        """The number to add; an existing opt-out shows its masked number and origin."""
        return ("phone",) if obj is None else ("masked_phone", "source", "received_at", "recorded_by")

    def get_readonly_fields(self, request: HttpRequest, obj: PhoneOptOut | None = None) -> tuple[str, ...]:
        """An opt-out never changes."""
        return () if obj is None else ("masked_phone", "source", "received_at", "recorded_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """An opt-out is kept as recorded."""
        return False

    def save_model(self, request: HttpRequest, obj: PhoneOptOut, form: forms.ModelForm, change: bool) -> None:
        """Record through the service, which suppresses queued family messages to the number."""
        saved = phone_opt_out_record(phone=form.cleaned_data["phone"], actor=request.user)
        obj.pk = saved.pk


@admin.register(ChannelStop)
class ChannelStopAdmin(AuditedAdmin):
    """Stopped channels, read-only (recorded from the account page or an SMS reply)."""

    list_display = ("borrower_id", "channel", "source", "received_at", "recorded_by")
    list_filter = ("channel", "source")
    readonly_fields = ("borrower", "channel", "source", "received_at", "recorded_by")

    def audit_persons(self, obj: ChannelStop) -> list[str]:
        """The borrower who stopped the channel."""
        return [person_key("borrower", obj.borrower_id)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Recorded through `channel_stop_record`."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Kept as recorded."""
        return False


@admin.register(CallTask)
class CallTaskAdmin(AuditedAdmin):
    """Phone-call tasks the ladder created, read-only; every page is audited."""

    list_display = ("account", "officer", "due_date", "dpd", "status")
    list_filter = ("status", "due_date")
    list_select_related = ("account", "officer")
    search_fields = ("account__account_number",)
    readonly_fields = ("account", "officer", "due_date", "dpd", "status", "policy_version", "created_at", "closed_at")
    audit_fields = ("account.account_number", "calltask.dpd")

    def audit_persons(self, obj: CallTask) -> list[str]:
        """The borrower to be called."""
        return [person_key("borrower", obj.account.borrower_id)]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Created by run_escalation."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Worked from the caseload."""
        return False


@admin.register(Message)
class MessageAdmin(AuditedAdmin):
    """The outbox, read-only, recipients masked; every page is audited."""

    list_display = ("idempotency_key", "audience", "channel", "masked_recipient", "status", "created_at", "sent_at")
    list_filter = ("status", "audience", "channel")
    search_fields = ("idempotency_key",)
    list_select_related = ("template_version__template",)
    fields = (
        "idempotency_key",
        "audience",
        "channel",
        "masked_recipient",
        "recipient_timezone",
        "body",
        "template_version",
        "policy_version",
        "status",
        "status_reason",
        "not_before",
        "send_date",
        "attempts",
        "last_error",
        "sent_at",
        "delivered_at",
        "created_at",
    )
    readonly_fields = fields
    audit_fields = ("message.recipient", "message.body")

    @admin.display(description=_("recipient"))
    def masked_recipient(self, obj: Message) -> str:
        """The recipient, masked."""
        return _masked(obj.recipient)

    def audit_persons(self, obj: Message) -> list[str]:
        """The borrower and, for a family message, the contact."""
        persons = [person_key("borrower", obj.borrower_id)]
        if obj.contact_id:
            persons.append(person_key("contact", obj.contact_id))
        return persons

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Messages are written by the services that decide them."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The outbox is changed by the relay and the gateway only."""
        return False
