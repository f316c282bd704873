"""The writing steps both imports share: find rows by natural key in chunks, change only differing values,
validate model fields against the CSV line, write in bulk, and say what was done."""

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from collections_app.importers.csv_rows import Problems
from collections_app.models import LoanAccount

# Keys per `IN (...)` query and rows per bulk statement: under SQLite's 999 bound parameters.
CHUNK = 900
BATCH = 500
# The account columns that decide whether the ladder still asks for a call (DPD and the policy profile).
LADDER_COLUMNS = frozenset({"oldest_unpaid_due_date", "portfolio_id"})

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


@dataclass
class ImportSummary:
    """What an import did, per object type."""

    rows: int = 0
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    reassigned: int = 0
    # Rows (or parts of rows) left out on purpose, each with its line and why: never an error.
    left_out: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        def counts(counter: Counter[str]) -> str:
            return ", ".join(f"{n} {name}" for name, n in sorted(counter.items()) if n) or "0"

        text = _("%(rows)d rows; created: %(created)s; updated: %(updated)s") % {
            "rows": self.rows,
            "created": counts(self.created),
            "updated": counts(self.updated),
        }
        if self.reassigned:
            text += _("; reassigned: %(n)d accounts") % {"n": self.reassigned}
        if self.skipped:
            text += _("; already recorded: %(n)d") % {"n": self.skipped}
        for note in self.left_out:
            text += "\n" + note
        return text


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fetch(queryset: models.QuerySet, lookup: str, keys: Iterable[Any]) -> Iterator[Any]:
    """Rows of `queryset` whose `lookup` is one of `keys`, a chunk of keys per query."""
    for chunk in chunks(list(keys)):
        yield from queryset.filter(**{f"{lookup}__in": chunk})


def changed_fields(obj: models.Model, values: dict[str, Any]) -> list[str]:
    """Set the differing `values` on `obj`; return the names of the fields that changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def clean_fields(obj: models.Model, line: int, problems: Problems, exclude: Sequence[str] = ()) -> None:
    """Model-level field validation before anything is written, reported against the row."""
    try:
        obj.clean_fields(exclude=list(exclude))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            problems.add(line, f"{name}: {' '.join(messages)}")


def differing(first: dict[str, Any], other: dict[str, Any]) -> str:
    """The names of the columns whose values differ, comma-separated ("" when none do)."""
    return ", ".join(name for name, value in first.items() if other[name] != value)


def bulk_write(
    model: type[M], new: list[M], changed: Sequence[tuple[M, list[str]]], update_fields: Sequence[str]
) -> None:
    """Insert the new objects and update `update_fields` of the changed ones, in batches."""
    model._default_manager.bulk_create(new, batch_size=BATCH)
    if changed:
        model._default_manager.bulk_update([obj for obj, _fields in changed], update_fields, batch_size=BATCH)


def ladder_changed(changed_accounts: Sequence[tuple[LoanAccount, list[str]]]) -> list[int]:
    """Ids of the changed accounts whose ladder columns changed: only their call tasks may have to go."""
    return [account.pk for account, changed in changed_accounts if LADDER_COLUMNS.intersection(changed)]
