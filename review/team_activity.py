"""Review's part of the team lead's dashboard: family-contact requests filed, approved and rejected, and how long
a decision took.

Named in the TEAM_ACTIVITY_PROVIDERS setting and loaded by collections_app.team.activity, so collections_app never
imports review. Requests count for the officer who filed them. The time to a decision is kept as an hourly
histogram per officer and day, so the team's median over any months is exact to the hour without reading
the requests again (they expire after 7 days, so the histogram has at most 168 buckets).
"""

import datetime
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from collections_app.team.activity import ActivityRow, DayWindow, histogram_median
from collections_app.team.figures import FigureLink, FigureTable, rate
from review.models import FamilyContactRequest

Status = FamilyContactRequest.Status
KIND = "family_contact"
HOURS_KIND = "family_contact_hours"
# A request was approved if someone decided it and did not reject it (it may have been sent, cancelled or
# expired since).
APPROVED = Q(decided_by__isnull=False) & ~Q(status=Status.REJECTED)
REJECTED = Q(status=Status.REJECTED)


class FamilyContactActivity:
    """Family-contact requests on the team lead's dashboard (never a decision: leads do not decide them)."""

    section_template = "review/_team_family_contact.html"
    kinds = (KIND,)

    def day_rows(self, window: DayWindow) -> Iterable[ActivityRow]:
        """Requests filed and decided on the day, per filing officer, and the hours each decision took."""
        filed = (
            FamilyContactRequest.objects.filter(requested_at__gte=window.start, requested_at__lt=window.end)
            .order_by()
            .values("requested_by_id")
            .annotate(n=Count("pk"))
        )
        rows = [ActivityRow(row["requested_by_id"], KIND, "filed", row["n"]) for row in filed]
        decided = FamilyContactRequest.objects.filter(
            decided_at__gte=window.start, decided_at__lt=window.end, decided_by__isnull=False
        ).values_list("requested_by_id", "status", "requested_at", "decided_at")
        outcomes: Counter[tuple[int, str]] = Counter()
        hours: Counter[tuple[int, int]] = Counter()
        for officer_id, status, requested_at, decided_at in decided:
            outcomes[(officer_id, "rejected" if status == Status.REJECTED else "approved")] += 1
            hours[(officer_id, int((decided_at - requested_at).total_seconds() // 3600))] += 1
        rows += [ActivityRow(officer_id, KIND, key, n) for (officer_id, key), n in sorted(outcomes.items())]
        rows += [ActivityRow(officer_id, HOURS_KIND, str(h), n) for (officer_id, h), n in sorted(hours.items())]
        return rows

    def section_context(self, months: list[datetime.date], figures: FigureTable, link: FigureLink) -> dict[str, Any]:
        """Per month: requests filed, approved and rejected (each linking to its accounts), the approval rate and
        the median hours to a decision."""
        hour_keys = [key for key in figures.keys(HOURS_KIND) if key.isdigit()]
        rows = []
        for month in months:
            cells = {
                key: (figures.get(month, KIND, key).count, link(KIND, key, month))
                for key in ("filed", "approved", "rejected")
            }
            histogram = {int(key): figures.get(month, HOURS_KIND, key).count for key in hour_keys}
            approved, rejected = cells["approved"][0], cells["rejected"][0]
            rows.append(
                {
                    "month": month,
                    "cells": cells,
                    "approval_rate": rate(approved, approved + rejected),
                    "median_hours": histogram_median(histogram),
                }
            )
        total = {key: figures.total(months, KIND, key).count for key in ("filed", "approved", "rejected")}
        overall = histogram_median({int(key): figures.total(months, HOURS_KIND, key).count for key in hour_keys})
        return {"heading": _("Family-contact requests"), "rows": rows, "total": total, "median_hours": overall}

    def accounts_behind(
        self, *, kind: str, key: str, officer_ids: list[int], start: datetime.datetime, end: datetime.datetime
    ) -> QuerySet | None:
        """The accounts of the requests filed, approved or rejected in [start, end) by these officers."""
        requests = FamilyContactRequest.objects.filter(requested_by_id__in=officer_ids)
        if key == "filed":
            return requests.filter(requested_at__gte=start, requested_at__lt=end).values("account_id")
        decided = requests.filter(decided_at__gte=start, decided_at__lt=end)
        if key == "approved":
            return decided.filter(APPROVED).values("account_id")
        if key == "rejected":
            return decided.filter(REJECTED).values("account_id")
        return None
