"""Charts drawn on the server as inline SVG, as the caseload draws its buckets: geometry here, markup in templates.

No JavaScript: each bar or point is an SVG link to the accounts behind it, with a `<title>` that names its value.
"""

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.functional import Promise

WIDTH, HEIGHT = 640.0, 240.0
LEFT, RIGHT, TOP, BOTTOM = 64.0, 8.0, 12.0, 28.0
GRID_LINES = 4


@dataclass(frozen=True)
class Series:
    """One named line or stack layer: a value per month (None where there is none) and the link of each point."""

    code: str
    label: str | Promise
    values: Sequence[float | None]
    links: Sequence[str] = ()


@dataclass(frozen=True)
class Mark:
    """One bar segment or point: where it is drawn, its class, its tooltip and its link."""

    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    href: str


@dataclass(frozen=True)
class Tick:
    """A labelled position on an axis."""

    position: float
    label: str


@dataclass
class Chart:
    """An SVG chart: its view box, marks, polylines (for line charts), axes and legend."""

    width: float
    height: float
    marks: list[Mark] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str | Promise]] = field(default_factory=list)
    plot_left: float = LEFT
    plot_right: float = WIDTH - RIGHT
    baseline: float = HEIGHT - BOTTOM

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not self.marks


def _nice_ceiling(value: float) -> float:
    """A round number at or above `value` (1, 2, 2.5 or 5 times a power of ten), for the axis's top."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _format(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.1f}"


def _month_label(month: datetime.date) -> str:
    return month.strftime("%Y-%m")


def _frame(months: Sequence[datetime.date], top: float, unit: str) -> Chart:
    chart = Chart(WIDTH, HEIGHT)
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    chart.x_ticks = [Tick(round(LEFT + slot * (i + 0.5), 1), _month_label(m)[2:]) for i, m in enumerate(months)]
    plot = HEIGHT - TOP - BOTTOM
    chart.y_ticks = [
        Tick(round(HEIGHT - BOTTOM - plot * i / GRID_LINES, 1), _format(top * i / GRID_LINES) + unit)
        for i in range(GRID_LINES + 1)
    ]
    return chart


def stacked_bars(months: Sequence[datetime.date], layers: Sequence[Series], *, unit: str = "") -> Chart:
    """One bar per month, stacked from the first layer up; the axis tops at a round number over the tallest bar."""
    totals = [sum(layer.values[i] or 0 for layer in layers) for i in range(len(months))]
    top = _nice_ceiling(max(totals, default=0))
    chart = _frame(months, top, unit)
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    plot = HEIGHT - TOP - BOTTOM
    for i, month in enumerate(months):
        y = HEIGHT - BOTTOM
        for layer in layers:
            value = layer.values[i] or 0
            if not value:
                continue
            height = plot * value / top
            y -= height
            chart.marks.append(
                Mark(
                    x=round(LEFT + slot * (i + 0.15), 1),
                    y=round(y, 1),
                    width=round(slot * 0.7, 1),
                    height=round(height, 1),
                    css=f"layer-{layer.code}",
                    title=f"{_month_label(month)} {layer.label}: {_format(value)}{unit}",
                    href=layer.links[i] if layer.links else "",
                )
            )
    chart.legend = [(layer.code, layer.label) for layer in layers]
    return chart


def lines(months: Sequence[datetime.date], series: Sequence[Series], *, unit: str = "%", top: float = 100.0) -> Chart:
    """One polyline per series over the months, broken where a month has no value; a dot links each value."""
    chart = _frame(months, top, unit)
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    plot = HEIGHT - TOP - BOTTOM
    for layer in series:
        run: list[str] = []
        for i, value in enumerate([*layer.values, None]):
            if value is None:
                if len(run) > 1:
                    chart.lines.append((f"layer-{layer.code}", " ".join(run)))
                run = []
                continue
            x = round(LEFT + slot * (i + 0.5), 1)
            y = round(HEIGHT - BOTTOM - plot * min(value, top) / top, 1)
            run.append(f"{x},{y}")
            chart.marks.append(
                Mark(
                    x=x,
                    y=y,
                    width=0,
                    height=0,
                    css=f"layer-{layer.code}",
                    title=f"{_month_label(months[i])} {layer.label}: {_format(value)}{unit}",
                    href=layer.links[i] if layer.links else "",
                )
            )
    chart.legend = [(layer.code, layer.label) for layer in series]
    return chart


def money(values: Sequence[Decimal]) -> list[float]:
    """Amounts as floats for drawing (the tables keep the exact figures)."""
    return [float(value) for value in values]
