"""What other apps add to the officer's caseload and account page, without collections_app importing them.

The providers are named in the `ACCOUNT_PAGE_PANELS` setting (dotted paths to classes), as Django names its
authentication backends, so the dependency runs one way: review leans on collections_app, never the reverse.
Each provider adds one column to the caseload table, filled for a whole page in one query, and one section
to the account page; both are rendered by the provider's own template partials.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from collections_app.models import LoanAccount

User = AbstractBaseUser | AnonymousUser


class AccountPanel(Protocol):
    """A provider of one caseload column and one account-page section."""

    # The caseload column's heading, and the partial that renders one of its cells from `value` and `account`.
    caseload_heading: str | Promise
    caseload_cell_template: str
    # The partial that renders the account page's section from `account` and `panel` (the section's context).
    account_section_template: str

    def caseload_values(self, user: User, account_ids: Sequence[int]) -> dict[int, Any]:
        """Each listed account's cell value, by account id, in one query; accounts without one are left out."""
        ...

    def account_section_context(self, user: User, account: LoanAccount) -> dict[str, Any]:
        """The account page section's context (querysets are fine: the template runs them once)."""
        ...


@dataclass(frozen=True)
class CaseloadCell:
    """One provider's cell in a caseload row: its partial and the value it renders."""

    template: str
    value: Any


@dataclass(frozen=True)
class CaseloadColumns:
    """The providers' columns of one caseload page: their headings, and each row's cells in the same order."""

    headings: list[str | Promise]
    cells: dict[int, list[CaseloadCell]]


@dataclass(frozen=True)
class AccountSection:
    """One provider's section of the account page: its partial and that partial's `panel` context."""

    template: str
    panel: dict[str, Any]


@functools.cache
def _load(paths: tuple[str, ...]) -> tuple[AccountPanel, ...]:
    return tuple(import_string(path)() for path in paths)


def account_panels() -> tuple[AccountPanel, ...]:
    """The providers named in ACCOUNT_PAGE_PANELS, imported once per list of names."""
    # Keyed by the names, so a test that overrides the setting gets its own providers without a stale cache.
    return _load(tuple(getattr(settings, "ACCOUNT_PAGE_PANELS", ())))


def caseload_columns(user: User, account_ids: Sequence[int]) -> CaseloadColumns:
    """Every provider's column for these accounts: one query per provider, whatever the number of rows."""
    panels = account_panels()
    values = [panel.caseload_values(user, account_ids) for panel in panels]
    return CaseloadColumns(
        headings=[panel.caseload_heading for panel in panels],
        cells={
            pk: [
                CaseloadCell(panel.caseload_cell_template, by_account.get(pk))
                for panel, by_account in zip(panels, values, strict=True)
            ]
            for pk in account_ids
        },
    )


def account_sections(user: User, account: LoanAccount) -> list[AccountSection]:
    """Every provider's section of the account page, in the order the setting names them."""
    return [
        AccountSection(panel.account_section_template, panel.account_section_context(user, account))
        for panel in account_panels()
    ]
