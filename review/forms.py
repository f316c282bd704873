"""Forms of the family-contact and policy-proposal pages; they validate input, the services write."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from collections_app.masking import mask_name, mask_phone
from collections_app.models import Contact, LoanAccount, MessageTemplate, PolicyProfile, PolicyVersion, Portfolio
from collections_app.selectors.accounts import loan_account_contacts
from collections_app.services.profiles import policy_changeable_fields
from review.models import JUSTIFICATION_MIN_LENGTH
from review.policy_proposals import policy_value_parse
from review.selectors import QueueFilters, family_templates


class ContactChoiceField(forms.ModelChoiceField):
    """Contacts shown masked: relationship, masked name and phone."""

    def label_from_instance(self, obj: Contact) -> str:
        return f"{obj.get_relationship_display()} {mask_name(obj.name)} {mask_phone(obj.phone)}"


class FamilyContactRequestForm(forms.Form):
    """File a family-contact request: one contact of the borrower, one approved family template, a reason."""

    contact = ContactChoiceField(label=_("Contact"), queryset=Contact.objects.none(), empty_label=None)
    template = forms.ModelChoiceField(label=_("Message template"), queryset=MessageTemplate.objects.none())
    justification = forms.CharField(
        label=_("Justification"),
        min_length=JUSTIFICATION_MIN_LENGTH,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("At least 20 characters: why family contact is needed now."),
    )

    def __init__(self, *args: Any, account: LoanAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = loan_account_contacts(account).order_by("pk")
        self.fields["template"].queryset = family_templates()


class DecisionForm(forms.Form):
    """Approve or reject; a rejection needs a reason."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, Any]:
        """A rejection without a reason is refused."""
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("A rejection needs a reason."))
        return cleaned


class QueueFilterForm(forms.Form):
    """The queue's filters."""

    portfolio = forms.CharField(label=_("Portfolio"), required=False, max_length=32)
    bucket = forms.CharField(label=_("Bucket"), required=False, max_length=16)
    officer = forms.CharField(label=_("Officer"), required=False, max_length=150)
    age = forms.ChoiceField(
        label=_("Waiting"),
        required=False,
        choices=[("", _("Any")), ("overdue", _("Overdue")), ("fresh", _("Not overdue"))],
    )

    def filters(self) -> QueueFilters:
        """The validated filters (empty when the form is invalid)."""
        if not self.is_valid():
            return QueueFilters()
        return QueueFilters(
            **{name: self.cleaned_data.get(name) or "" for name in ("portfolio", "bucket", "officer", "age")}
        )


class PolicyProposalForm(forms.Form):
    """File a policy proposal: `profile` (code), `field` and `value`; or `portfolio` (code) and the `profile` it is
    to use. `effective_from` empty means as soon as it is approved."""

    profile = forms.CharField(label=_("Profile (code)"), max_length=32)
    field = forms.ChoiceField(label=_("Field"), required=False)
    value = forms.CharField(
        label=_("Value"),
        required=False,
        max_length=2000,
        help_text=_("Lists and mappings as JSON, times as HH:MM, yes/no as true or false."),
    )
    portfolio = forms.CharField(
        label=_("Portfolio (code)"),
        required=False,
        max_length=32,
        help_text=_("Only to switch the profile a portfolio uses: then the field and value stay empty."),
    )
    effective_from = forms.DateTimeField(
        label=_("In force from"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: as soon as a risk approver who did not propose it approves it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—")] + [
            (name, f"{name}: {PolicyVersion._meta.get_field(name).verbose_name}") for name in policy_changeable_fields()
        ]

    def clean_profile(self) -> PolicyProfile:
        """The profile named by its code."""
        profile = PolicyProfile.objects.filter(code=self.cleaned_data["profile"].strip()).first()
        if profile is None:
            raise forms.ValidationError(_("No policy profile has this code."))
        return profile

    def clean_portfolio(self) -> Portfolio | None:
        """The portfolio named by its code, or None."""
        code = self.cleaned_data["portfolio"].strip()
        if not code:
            return None
        portfolio = Portfolio.objects.filter(code=code).first()
        if portfolio is None:
            raise forms.ValidationError(_("No portfolio has this code."))
        return portfolio

    def clean(self) -> dict[str, Any]:
        """A field change needs a field and a value of its type (`changes`); a switch needs neither."""
        cleaned = super().clean()
        if cleaned.get("portfolio") is not None or "portfolio" in self.errors:
            return cleaned
        name = cleaned.get("field")
        if not name:
            self.add_error("field", _("Choose the field to change."))
            return cleaned
        try:
            cleaned["changes"] = {name: policy_value_parse(name, cleaned.get("value") or "")}
        except ValidationError as exc:
            for message in exc.message_dict.get("value", exc.messages):
                self.add_error("value", message)
        return cleaned
