"""The legal floors of a policy, per profile kind (DOMAIN.md, "Legal floors"): no version may cross them.

Pure: it reads a policy's values by attribute (a PolicyVersion, or anything shaped like one) and names, for each
field below a floor, the rule and its source. The free-text fields a message carries pass the content firewall.
`PolicyVersion.clean` runs it, so the admin and every service refuse such a version with a field error.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from collections_app.messaging.firewall.lint import BORROWER, FAMILY, lint_message
from collections_app.messaging.firewall.modes import PROFILES, firewall_profile_for

NIFA = "NIFA 2025 national standard on post-loan collection of online consumer credit; NIFA 2018 convention"
REG_F = "12 CFR 1006 (Regulation F)"
CONC = "FCA CONC 7.9"
WITHIN_21 = _("allowed hours within 08:00-21:00")


@dataclass(frozen=True)
class Floor:
    """One floor: the field a refusal is reported on, the rule in words, its source, and the test it must pass."""

    field: str
    rule: Promise
    source: str
    holds: Callable[[Any], bool]


def _hours_within(first: int, last: int, rule: Promise, source: str) -> tuple[Floor, Floor]:
    """The two floors of an allowed-hours window [first:00, last:00), one on each end of the policy's window."""
    return (
        Floor("send_window_start", rule, source, lambda p: p.send_window_start >= datetime.time(first)),
        Floor("send_window_end", rule, source, lambda p: p.send_window_end <= datetime.time(last)),
    )


FLOORS: dict[str, tuple[Floor, ...]] = {
    "cn": (
        *_hours_within(8, 22, _("allowed hours within 08:00-22:00"), NIFA),
        Floor(
            "max_connected_calls_per_day",
            _("connected calls per borrower per day set and at most 3"),
            NIFA,
            lambda p: p.max_connected_calls_per_day is not None and p.max_connected_calls_per_day <= 3,
        ),
        Floor("family_min_dpd", _("family contact from DPD 30 on"), NIFA, lambda p: p.family_min_dpd >= 30),
        Floor(
            "family_only_when_unreachable",
            _("family contact only when the borrower cannot be reached"),
            NIFA,
            lambda p: bool(p.family_only_when_unreachable),
        ),
        Floor("firewall_mode", _("the cn-default firewall mode"), NIFA, lambda p: p.firewall_mode == "cn-default"),
    ),
    "us": (
        *_hours_within(8, 21, WITHIN_21, f"{REG_F}, 1006.6(b)(1)(i)"),
        Floor(
            "max_call_attempts",
            _("at most 7 call attempts within 7 days"),
            f"{REG_F}, 1006.14(b)",
            lambda p: p.max_call_attempts is not None and p.max_call_attempts <= 7 and p.call_attempts_window_days >= 7,
        ),
        Floor(
            "no_calls_after_conversation_days",
            _("no call for 7 days after a conversation"),
            f"{REG_F}, 1006.14(b)",
            lambda p: p.no_calls_after_conversation_days >= 7,
        ),
        Floor(
            "contact_once_only",
            _("each third party contacted once"),
            f"{REG_F}, 1006.6(d), 1006.10",
            lambda p: p.contact_once_only,
        ),
    ),
    "uk": (*_hours_within(8, 21, WITHIN_21, CONC),),
}

# The free text a message carries, and whom to: the opt-out lines ride on every family message; the lender's
# name fills the borrower templates (family templates are linted with it blank).
FREE_TEXT_AUDIENCES = {"opt_out_line": FAMILY, "opt_out_line_en": FAMILY, "lender_name": BORROWER}


def legal_floor_errors(kind: str, policy: Any) -> dict[str, list[str]]:
    """Field -> refusals of `policy` under the floors of `kind`, each naming its rule and source; {} when it holds."""
    errors: dict[str, list[str]] = {}
    for floor in FLOORS[kind]:
        try:
            holds = floor.holds(policy)
        except TypeError:
            continue  # A missing or mistyped value is its field's own error (clean_fields), not a floor's.
        if not holds:
            message = gettext("Below the legal floor: %(rule)s (%(source)s).")
            errors.setdefault(floor.field, []).append(message % {"rule": floor.rule, "source": floor.source})
    if "firewall_mode" in errors or policy.firewall_mode not in PROFILES:
        return errors  # The free text is linted under a firewall the floors allow, not a refused or unknown one.
    profile = firewall_profile_for(policy)
    for field, audience in FREE_TEXT_AUDIENCES.items():
        text = getattr(policy, field)
        findings = lint_message(text, audience=audience, profile=profile) if isinstance(text, str) else []
        if findings:
            listed = ", ".join(sorted({f.category for f in findings}))
            errors.setdefault(field, []).append(
                gettext("The text fails the content firewall (%(findings)s).") % {"findings": listed}
            )
    return errors
