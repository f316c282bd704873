"""Month figures as the dashboard and its providers read them: a count and an amount per (month, kind, key)."""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

# A link to the accounts behind a figure: (kind, key, month) -> URL.
FigureLink = Callable[[str, str, datetime.date], str]


@dataclass(frozen=True)
class Figure:
    """How many, and how much money, one figure counts."""

    count: int = 0
    amount: Decimal = Decimal("0")


NO_FIGURE = Figure()


class FigureTable:
    """The month figures of a team or one officer, summed over its officers."""

    def __init__(self, rows: Iterable[tuple[datetime.date, str, str, int, Decimal]]) -> None:
        self._figures = {(month, kind, key): Figure(count, amount) for month, kind, key, count, amount in rows}

    def get(self, month: datetime.date, kind: str, key: str) -> Figure:
        """One figure; zero when nothing was counted."""
        return self._figures.get((month, kind, key), NO_FIGURE)

    def keys(self, kind: str) -> list[str]:
        """Every key counted under `kind` in any month, sorted."""
        return sorted({key for (_, figure_kind, key) in self._figures if figure_kind == kind})

    def total(self, months: Iterable[datetime.date], kind: str, key: str) -> Figure:
        """A figure summed over `months`."""
        figures = [self.get(month, kind, key) for month in months]
        return Figure(sum(f.count for f in figures), sum((f.amount for f in figures), start=Decimal("0")))

    def __bool__(self) -> bool:
        return bool(self._figures)


def month_start(day: datetime.date) -> datetime.date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def month_shift(month: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after (negative: before) `month`'s."""
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def rate(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent; None when there is no whole."""
    return round(100.0 * part / whole, 1) if whole else None
