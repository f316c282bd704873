"""The auditor's filters over the log, as the query strings of /audit/ and /audit/exceptions/ give them."""

import datetime
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.bounds import QueryDateField, QueryIntegerField

PERSON_RE = re.compile(r"^(borrower|contact):\d+$")
OBJECT_RE = re.compile(r"^[a-z][a-z0-9_.]{0,59}:[^\s:]{1,64}$")
RULE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# A call logged against the contact gate's answer (CONTRACT.md): its detail lists the rules broken under
# `rules` (the gate's reason codes) and names the policy version under `profile_version`.
COMPLIANCE_EXCEPTION = "compliance_exception"


# Without a start date, the auditor's pages look at this many calendar months, the current one included: every
# page's query stays within the months it asks for, however long the log has grown.
DEFAULT_MONTHS = 3


def months_back(day: datetime.date, months: int) -> datetime.date:
    """The first day of the calendar month `months` - 1 before the month of `day` (1: that month's first day)."""
    index = day.year * 12 + day.month - 1 - (months - 1)
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class AuditFilter:
    """A validated filter; empty values mean no restriction."""

    actor: str = ""
    action: str = ""
    person: str = ""
    object: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    # A rule code the event's `detail["rules"]` lists (compliance exceptions).
    rule: str = ""
    event: int | None = None  # one event, shown with every person it names

    def within_months(self, today: datetime.date, months: int = DEFAULT_MONTHS) -> "AuditFilter":
        """This filter, starting `months` calendar months back from `today` when it names no start (or event)."""
        if self.date_from is not None or self.event is not None:
            return self
        return replace(self, date_from=months_back(today, months))

    def as_detail(self) -> dict[str, str]:
        """The filter as the export event records it."""
        values = asdict(self)
        return {
            key: (value.isoformat() if isinstance(value, datetime.date) else value) for key, value in values.items()
        }

    def since(self) -> datetime.datetime | None:
        """Start of `date_from` in the lender's time zone."""
        if self.date_from is None:
            return None
        return datetime.datetime.combine(self.date_from, datetime.time.min, tzinfo=timezone.get_default_timezone())

    def until(self) -> datetime.datetime | None:
        """Start of the day after `date_to` in the lender's time zone (the range includes `date_to`)."""
        if self.date_to is None:
            return None
        day_after = self.date_to + datetime.timedelta(days=1)
        return datetime.datetime.combine(day_after, datetime.time.min, tzinfo=timezone.get_default_timezone())


class CursorForm(forms.Form):
    """The keyset cursor `before` of a page of the log: an event id."""

    before = QueryIntegerField(required=False, widget=forms.HiddenInput)


class AuditFilterForm(CursorForm):
    """Query parameters `actor`, `action`, `person`, `object`, `from`, `to`, `event` (one event and its persons),
    and the keyset cursor `before`."""

    actor = forms.CharField(label=_("Actor"), max_length=150, required=False)
    action = forms.CharField(label=_("Action"), max_length=40, required=False)
    person = forms.RegexField(
        label=_("Person"),
        regex=PERSON_RE,
        required=False,
        error_messages={"invalid": _("Use borrower:<id> or contact:<id>.")},
    )
    object = forms.RegexField(
        label=_("Object"),
        regex=OBJECT_RE,
        required=False,
        error_messages={"invalid": _("Use <model>:<id>.")},
    )
    event = QueryIntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so these two are added by name.
        # Both bounded (2000-01-01 to tomorrow): the day after `to` is where the filter ends.
        self.fields["from"] = QueryDateField(label=_("From"), required=False, widget=forms.DateInput({"type": "date"}))
        self.fields["to"] = QueryDateField(label=_("To"), required=False, widget=forms.DateInput({"type": "date"}))
        self.order_fields(["actor", "action", "person", "object", "from", "to", "event", "before"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        return cleaned

    def audit_filter(self) -> AuditFilter:
        """The validated filter (call after is_valid())."""
        data = self.cleaned_data
        return AuditFilter(
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            person=data.get("person") or "",
            object=data.get("object") or "",
            date_from=data.get("from"),
            date_to=data.get("to"),
            event=data.get("event"),
        )


class ExceptionFilterForm(AuditFilterForm):
    """Query parameters of the compliance exceptions: `actor`, `rule`, `from`, `to`, and the cursor `before`."""

    # The action is fixed, and an exception's object is always an interaction: those filters do not apply.
    action = None
    person = None
    object = None
    rule = forms.RegexField(
        label=_("Rule"),
        regex=RULE_RE,
        required=False,
        error_messages={"invalid": _("Use a rule code, e.g. outside_hours.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(["actor", "rule", "from", "to", "before"])

    def audit_filter(self) -> AuditFilter:
        """The validated filter over compliance exceptions (call after is_valid())."""
        return replace(super().audit_filter(), action=COMPLIANCE_EXCEPTION, rule=self.cleaned_data.get("rule") or "")


class VerificationStartForm(forms.Form):
    """An auditor starts a verify run: the whole chain, or only what was sealed since the last verified checkpoint."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("incremental", _("Incremental: what was sealed since the last verified checkpoint")),
            ("full", _("Full: the whole chain")),
        ],
    )


class LegalHoldForm(forms.Form):
    """An auditor puts one person's events under a legal hold, saying why."""

    person = forms.RegexField(
        label=_("Person"),
        regex=PERSON_RE,
        error_messages={"invalid": _("Use borrower:<id> or contact:<id>.")},
    )
    reason = forms.CharField(label=_("Reason"), min_length=10, max_length=1000, widget=forms.Textarea({"rows": 2}))


class LegalHoldLiftForm(forms.Form):
    """An auditor lifts one standing legal hold, saying why."""

    hold = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), min_length=10, max_length=1000)


class DetachRequestForm(forms.Form):
    """An auditor asks to detach one archived month (YYYY-MM) from the database, saying why."""

    month = forms.RegexField(
        label=_("Month"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", error_messages={"invalid": _("Use YYYY-MM.")}
    )
    reason = forms.CharField(label=_("Reason"), min_length=10, max_length=1000)

    def month_start(self) -> datetime.date:
        """The first day of the month asked for (call after is_valid())."""
        year, month = (int(part) for part in self.cleaned_data["month"].split("-"))
        return datetime.date(year, month, 1)


class DetachDecisionForm(forms.Form):
    """A second auditor approves or rejects one detach request, saying why."""

    request = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    reason = forms.CharField(label=_("Reason"), min_length=10, max_length=1000)
