"""Forms of the family-contact pages; they validate input, the services write."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.masking import mask_name, mask_phone
from collections_app.models import Contact, LoanAccount, MessageTemplate
from collections_app.selectors.accounts import loan_account_contacts
from review.models import JUSTIFICATION_MIN_LENGTH
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
