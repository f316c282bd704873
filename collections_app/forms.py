"""Forms of the officer's pages; each validates input only, the services do the writes."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from access.roles import CASE_OFFICER
from collections_app.account_rules import (
    HasRevealPurposes,
    RevealPurpose,
    RevealTarget,
    reveal_purpose_refusal,
    reveal_target_parse,
)
from collections_app.dpd import BUCKETS
from collections_app.masking import mask_name
from collections_app.models import BorrowerFlag, CallTask, Complaint, Contact, Flag, Interaction, Portfolio
from collections_app.models.complaints import COMPLAINT_TEXT_MAX


class CaseloadFilterForm(forms.Form):
    """Filters of the caseload: bucket, portfolio and an account-number search."""

    bucket = forms.ChoiceField(
        label=_("Bucket"), required=False, choices=[("", _("All buckets"))] + [(b.code, b.label) for b in BUCKETS]
    )
    portfolio = forms.TypedChoiceField(label=_("Portfolio"), required=False, coerce=int, empty_value=None)
    q = forms.CharField(label=_("Account number"), required=False, max_length=64, strip=True)

    def __init__(self, *args: object, portfolios: list[Portfolio], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Choices from a list the view already loaded: validating must not cost another query.
        self.fields["portfolio"].choices = [("", _("All portfolios"))] + [(p.pk, p.name) for p in portfolios]


class InteractionForm(forms.Form):
    """Log a contact attempt or conversation: with the borrower or one of their contacts, and, for a call the
    contact gate refuses, the reason it was made anyway."""

    # A blank first choice: the officer picks the outcome rather than accepting a default.
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "---------"), *Interaction.Outcome.choices])
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Interaction.Channel.choices, initial=Interaction.Channel.PHONE
    )
    contact = forms.TypedChoiceField(label=_("With"), coerce=int, required=False, empty_value=None)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = forms.CharField(
        label=_("Override reason"),
        help_text=_("Only for a call the contact gate refuses: why it was made anyway (a compliance exception)."),
        required=False,
        min_length=Interaction.OVERRIDE_REASON_MIN_LENGTH,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: object, contacts: Iterable[Contact] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.contacts = {contact.pk: contact for contact in contacts}
        # No name here: the form page is shown again with errors, where no personal data is audited.
        self.fields["contact"].choices = [("", _("The borrower"))] + [
            (pk, f"{contact.get_relationship_display()} #{pk}") for pk, contact in self.contacts.items()
        ]

    @property
    def chosen_contact(self) -> Contact | None:
        """The contact the interaction was with, or None for the borrower."""
        return self.contacts.get(self.cleaned_data.get("contact"))


class BorrowerFlagSetForm(forms.Form):
    """Flag the borrower as represented (naming the representative) or as a vulnerable customer."""

    kind = forms.ChoiceField(label=_("Flag"), choices=BorrowerFlag.Kind.choices)
    representative = forms.CharField(
        label=_("Representative"),
        help_text=_("For a represented borrower: who represents them and how to reach them."),
        required=False,
        max_length=300,
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, object]:
        """A represented borrower's flag names the representative."""
        data = super().clean()
        if data.get("kind") == BorrowerFlag.Kind.REPRESENTED and not (data.get("representative") or "").strip():
            self.add_error("representative", _("Name the representative and how to reach them."))
        return data


class PromiseForm(forms.Form):
    """Record a promise to pay: the date and amount as typed; `promise_create` checks them against the account's
    outstanding balance and its profile's horizon (`account_rules.promise_terms_errors`)."""

    promised_date = forms.DateField(label=_("Promised date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2)


class FlagOpenForm(forms.Form):
    """Open a dispute or hardship flag."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Flag.Kind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class FlagCloseForm(forms.Form):
    """Close an open flag."""

    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CallTaskCloseForm(forms.Form):
    """Close an open phone-call task: done (the call was made) or cancelled (no call is needed)."""

    status = forms.ChoiceField(
        label=_("Close as"),
        choices=[(status.value, status.label) for status in (CallTask.Status.DONE, CallTask.Status.CANCELLED)],
        widget=forms.RadioSelect,
    )


class CommunicationRequestForm(forms.Form):
    """Record what a borrower or contact asked for by phone: a stopped channel, a cease request, an opt-out."""

    STOP_SMS = "stop_sms"
    STOP_VOICE = "stop_voice"
    STOP_IN_APP = "stop_in_app"
    CEASE = "cease"
    CONTACT_OPT_OUT = "contact_opt_out"
    STOPPED_CHANNELS = {STOP_SMS: "sms", STOP_VOICE: "voice", STOP_IN_APP: "in_app"}

    request = forms.ChoiceField(
        label=_("Request"),
        choices=[
            (STOP_SMS, _("The borrower stops SMS")),
            (STOP_VOICE, _("The borrower stops calls")),
            (STOP_IN_APP, _("The borrower stops in-app messages")),
            (CEASE, _("The borrower asks that communication cease")),
            (CONTACT_OPT_OUT, _("A contact opts out of being contacted")),
        ],
    )
    contact = forms.TypedChoiceField(label=_("Contact"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: object, contacts: Iterable[Contact] = (), **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.contacts = {contact.pk: contact for contact in contacts}
        self.fields["contact"].choices = [("", "—")] + [
            # No name here: the form page is shown again with errors, where no personal data is audited.
            (pk, f"{contact.get_relationship_display()} #{pk}")
            for pk, contact in self.contacts.items()
        ]

    def clean(self) -> dict[str, object]:
        """An opt-out names one of this borrower's contacts."""
        data = super().clean()
        if data.get("request") == self.CONTACT_OPT_OUT and data.get("contact") is None:
            self.add_error("contact", _("Choose the contact who opted out."))
        return data

    @property
    def chosen_contact(self) -> Contact | None:
        """The contact the opt-out is for."""
        return self.contacts.get(self.cleaned_data.get("contact"))


class RevealForm(forms.Form):
    """Ask for one full personal value, stating a purpose the account's policy version in force allows for it."""

    field = forms.CharField(label=_("Field"), max_length=64)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=RevealPurpose.choices)

    def __init__(self, *args: Any, policy: HasRevealPurposes, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy

    def clean_field(self) -> RevealTarget:
        """`borrower.name|phone|id_number` or `contact.<id>.name|phone`."""
        target = reveal_target_parse(self.cleaned_data["field"])
        if target is None:
            raise forms.ValidationError(
                _(
                    "Unknown field: use borrower.name, borrower.phone, borrower.id_number, "
                    "contact.<id>.name or contact.<id>.phone."
                )
            )
        return target

    def clean(self) -> dict[str, Any]:
        """A purpose that does not fit the field is an error on `purpose`."""
        data = super().clean()
        target, purpose = data.get("field"), data.get("purpose")
        if target is not None and purpose:
            refusal = reveal_purpose_refusal(policy=self.policy, target=target, purpose=purpose)
            if refusal:
                self.add_error("purpose", refusal)
        return data


class AssignOfficerForm(forms.Form):
    """The admin's intermediate step: pick the officer who takes the selected accounts."""

    officer = forms.ModelChoiceField(
        label=_("Officer"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("Nobody (unassign)"),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = (
            get_user_model().objects.filter(groups__name=CASE_OFFICER, is_active=True).order_by("username")
        )


class InboxPageForm(forms.Form):
    """The compliance inbox's keyset cursor: replies with ids below `before`."""

    # Bounded by the id column's range: a larger cursor is a field error, not a database error.
    before = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False, widget=forms.HiddenInput)


class ComplaintForm(forms.Form):
    """File a complaint: who complains (the borrower or a contact, masked), how, about what, in their own words."""

    account = forms.IntegerField(widget=forms.HiddenInput)
    complainant = forms.ChoiceField(label=_("Complainant"))
    channel = forms.ChoiceField(label=_("Channel"), choices=Complaint.Channel.choices)
    category = forms.ChoiceField(label=_("Category"), choices=Complaint.Category.choices)
    text = forms.CharField(
        label=_("The complainant's words"), max_length=COMPLAINT_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args: Any, contacts: Iterable[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["complainant"].choices = [("borrower", _("the borrower"))] + [
            (f"contact:{contact.pk}", f"{contact.get_relationship_display()} {mask_name(contact.name)}")
            for contact in contacts
        ]


class ComplaintAdvanceForm(forms.Form):
    """Move a complaint to its next status; resolving it needs the resolution given to the complainant."""

    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        max_length=COMPLAINT_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
