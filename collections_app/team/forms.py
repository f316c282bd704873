"""Forms of the team lead's pages and of the officer's plan proposal; each validates input only."""

import datetime
from decimal import Decimal

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from collections_app.account_rules import PLAN_MAX_INSTALMENTS, ProposedInstalment
from collections_app.dpd import BUCKETS
from collections_app.models import RepaymentPlan


def _officer_choices(officers: list[User], blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(officer.username, officer.username) for officer in officers]


class TeamFilterForm(forms.Form):
    """Which officer the dashboard and the account list show (none: the whole team)."""

    officer = forms.ChoiceField(label=_("Officer"), required=False)

    def __init__(self, *args: object, officers: list[User], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Choices from the team the view already loaded: an officer outside it is no choice at all.
        self.fields["officer"].choices = _officer_choices(officers, str(_("The whole team")))


class TeamAccountsForm(TeamFilterForm):
    """The account list's filters: the officer, today's bucket, an account number, or a dashboard figure."""

    bucket = forms.ChoiceField(
        label=_("Bucket"), required=False, choices=[("", _("All buckets"))] + [(b.code, b.label) for b in BUCKETS]
    )
    q = forms.CharField(label=_("Account number"), required=False, max_length=64, strip=True)
    figure = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    key = forms.CharField(required=False, max_length=48, widget=forms.HiddenInput)
    month = forms.CharField(required=False, max_length=7, widget=forms.HiddenInput)

    def clean_month(self) -> datetime.date | None:
        """`YYYY-MM` as the first day of that month."""
        value = self.cleaned_data["month"]
        if not value:
            return None
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no time
        except ValueError as exc:
            raise forms.ValidationError(_("Give the month as YYYY-MM.")) from exc


class ReassignForm(forms.Form):
    """CONTRACT.md's fields: `accounts` (ids, repeated) and `officer` (a username); or a filter of the list."""

    officer = forms.CharField(label=_("New officer"), max_length=150)
    accounts = forms.TypedMultipleChoiceField(required=False, coerce=int)
    # "filter": every account matching the list's filter (its officer and bucket), not a selection.
    select = forms.ChoiceField(required=False, choices=[("", ""), ("filter", "filter")])
    filter_officer = forms.CharField(required=False, max_length=150)
    filter_bucket = forms.ChoiceField(required=False, choices=[("", "")] + [(b.code, b.code) for b in BUCKETS])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Any integer is a valid choice here; whether it is the lead's account is the scope's question.
        self.fields["accounts"].valid_value = lambda value: str(value).isascii() and str(value).isdigit()

    def clean(self) -> dict[str, object]:
        """A selection needs at least one account; a filter needs no ids."""
        data = super().clean()
        if data.get("select") != "filter" and not data.get("accounts"):
            self.add_error("accounts", _("Choose at least one account."))
        return data


class PlanDecisionForm(forms.Form):
    """The team lead's decision on a proposed plan: `decision` (approve or reject) and `reason`."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class PlanWithdrawForm(forms.Form):
    """Withdraw a proposal that awaits its decision, with a reason."""

    reason = forms.CharField(label=_("Reason"), max_length=500)


class InstalmentForm(forms.Form):
    """One row of a proposal: a due date and an amount (an empty row is skipped)."""

    due_date = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("Amount"), required=False, max_digits=14, decimal_places=2)

    def clean(self) -> dict[str, object]:
        """A row gives both a date and an amount, or neither."""
        data = super().clean()
        if (data.get("due_date") is None) != (data.get("amount") is None):
            raise forms.ValidationError(_("Give both the due date and the amount, or neither."))
        return data


InstalmentFormSet = forms.formset_factory(
    InstalmentForm, extra=6, max_num=PLAN_MAX_INSTALMENTS, validate_max=True, absolute_max=PLAN_MAX_INSTALMENTS
)


class PlanProposalForm(forms.Form):
    """The plan's kind and, when the instalments do not total the outstanding amount, why."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=RepaymentPlan.Kind.choices, initial=RepaymentPlan.Kind.INSTALMENTS
    )
    difference_reason = forms.CharField(
        label=_("Why the total differs from the outstanding amount (if it does)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def proposed_instalments(formset: forms.BaseFormSet) -> list[ProposedInstalment]:
    """The filled rows of a valid instalment formset, in the order given."""
    rows: list[ProposedInstalment] = []
    for form in formset.forms:
        due: datetime.date | None = form.cleaned_data.get("due_date")
        amount: Decimal | None = form.cleaned_data.get("amount")
        if due is not None and amount is not None:
            rows.append(ProposedInstalment(due, amount))
    return rows
