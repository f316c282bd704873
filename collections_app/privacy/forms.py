"""Forms of the data-subject request pages; each validates input only, the services do the writes."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.masking import mask_name
from collections_app.models import Contact, DataSubjectRequest
from collections_app.models.privacy import REQUEST_TEXT_MAX
from collections_app.privacy.corrections import CORRECTABLE_FIELDS, correction_errors, correction_form_name


class PrivacyRequestForm(forms.Form):
    """File a request: whose (the borrower or a contact), which right, the person's own words and, for a
    correction, the new values."""

    account = forms.IntegerField(widget=forms.HiddenInput)
    subject = forms.ChoiceField(label=_("Who asks"))
    kind = forms.ChoiceField(label=_("What they ask"), choices=DataSubjectRequest.Kind.choices)
    text = forms.CharField(
        label=_("The person's words"), max_length=REQUEST_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, contacts: Iterable[Contact], show_names: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Officers tell contacts apart by their masked names; auditors see no personal value, only relationships.
        self.fields["subject"].choices = [("borrower", _("the borrower"))] + [
            (
                f"contact:{contact.pk}",
                f"{contact.get_relationship_display()} {mask_name(contact.name) if show_names else f'#{contact.pk}'}",
            )
            for contact in contacts
        ]
        for field in CORRECTABLE_FIELDS:
            self.fields[correction_form_name(field.name)] = forms.CharField(
                label=_("New value: %(field)s") % {"field": field.label},
                required=False,
                max_length=100,
                help_text=_("For a correction only.")
                if field.in_app
                else _("For a correction only; forwarded to the core lending system."),
            )

    def clean(self) -> dict[str, Any]:
        """A correction names at least one field of its own subject, each value valid; other kinds name none."""
        data = super().clean()
        values = {
            field.name: data[correction_form_name(field.name)].strip()
            for field in CORRECTABLE_FIELDS
            if (data.get(correction_form_name(field.name)) or "").strip()
        }
        data["correction"] = {}
        if data.get("kind") != DataSubjectRequest.Kind.CORRECTION:
            if values and data.get("kind"):
                self.add_error("kind", _("Only a correction request names new values."))
            return data
        if not values:
            self.add_error(None, _("Enter at least one corrected value."))
            return data
        person_type = "borrower" if data.get("subject") == "borrower" else "contact"
        correction, errors = correction_errors(person_type=person_type, values=values)
        for name, messages in errors.items():
            self.add_error(correction_form_name(name), messages)
        data["correction"] = correction
        return data


class PrivacyDecisionForm(forms.Form):
    """An auditor's step on a request: take it in hand, fulfil it or refuse it, with the reasons."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("start", _("Take in hand")), ("fulfil", _("Fulfil")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reasons"),
        required=False,
        max_length=REQUEST_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to fulfil or refuse: they are kept with the decision."),
    )

    def clean(self) -> dict[str, Any]:
        """Fulfilling or refusing needs the reasons."""
        data = super().clean()
        if data.get("decision") in ("fulfil", "refuse") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reasons for the decision."))
        return data


class PrivacyFilterForm(forms.Form):
    """The auditor's list filter: one status, or all."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *DataSubjectRequest.Status.choices],
    )
