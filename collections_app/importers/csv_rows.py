"""Reading an import file: the CSV rows, the checks on each cell, and the problems that stop an import."""

import csv
import datetime
import re
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import TextIO, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

from audit.bounds import reported_moment_error
from collections_app.masking import mask_phone
from collections_app.models.accounts import e164_validator, resident_id_validator

CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Read as `csv_rows.PROGRESS_EVERY` by the other modules of the package, so that one value (and a test's
# monkeypatch of it) holds for reading, writing and the audit trail alike.
PROGRESS_EVERY = 10_000
# Problems listed before giving up: enough to fix a file in one pass, short enough to read.
MAX_PROBLEMS = 20

Progress = Callable[[str], None]
T = TypeVar("T")


class ImportFileError(Exception):
    """The file cannot be imported; `problems` are (CSV line number, message), line 0 for the whole file."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.problems = sorted(problems)[:MAX_PROBLEMS]
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            _("row %(line)d: %(problem)s") % {"line": line, "problem": problem} if line else problem
            for line, problem in self.problems
        )


class Problems:
    """Collects row problems; raises them together at the end of a validation phase."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        """Note one problem of a row; give up at once when there are MAX_PROBLEMS."""
        self.items.append((line, message))
        if len(self.items) >= MAX_PROBLEMS:
            raise ImportFileError(self.items)

    def raise_if_any(self) -> None:
        """End a validation phase: raise ImportFileError when any row had a problem."""
        if self.items:
            raise ImportFileError(self.items)


def phase_progress(row_count: int, progress: Progress | None) -> Progress | None:
    """The progress callback for the writing phases: only files large enough to take a while report them."""
    return progress if row_count >= PROGRESS_EVERY else None


def read_rows(stream: TextIO, header: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (CSV line number, values by column) after checking the header; blank lines are skipped.

    Open the file with encoding="utf-8-sig" and newline="" so a BOM is dropped and quoted newlines survive.
    """
    reader = csv.reader(stream, strict=True)
    last_line = 0
    try:
        first = next(reader, None)
        if first is None:
            raise ImportFileError([(0, _("The file is empty; expected the header %(h)s.") % {"h": ",".join(header)})])
        if [value.strip() for value in first] != list(header):
            raise ImportFileError([(1, _("the header must be exactly %(h)s") % {"h": ",".join(header)})])
        last_line = reader.line_num
        for record in reader:
            line = last_line + 1
            last_line = reader.line_num
            if not any(value.strip() for value in record):
                continue
            if len(record) != len(header):
                raise ImportFileError(
                    [(line, _("expected %(n)d columns, found %(m)d") % {"n": len(header), "m": len(record)})]
                )
            yield line, {name: value.strip() for name, value in zip(header, record, strict=True)}
    except UnicodeDecodeError as exc:
        raise ImportFileError([(last_line + 1, _("the file is not valid UTF-8"))]) from exc
    except csv.Error as exc:
        raise ImportFileError([(last_line + 1, _("malformed CSV: %(e)s") % {"e": exc})]) from exc


def text(values: dict[str, str], column: str, max_length: int, *, required: bool = True) -> str:
    """The column's text, at most `max_length` characters; ValueError when required and empty."""
    value = values[column]
    if required and not value:
        raise ValueError(_("%(c)s is required") % {"c": column})
    if len(value) > max_length:
        raise ValueError(_("%(c)s is longer than %(n)d characters") % {"c": column, "n": max_length})
    return value


def money(values: dict[str, str], column: str, *, positive: bool = False) -> Decimal:
    """The column as an amount: a finite decimal, at most 2 places, 0 or more (more than 0 when `positive`)."""
    raw = values[column]
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise ValueError(_("%(c)s is not a decimal number: %(v)r") % {"c": column, "v": raw}) from None
    if not amount.is_finite():
        raise ValueError(_("%(c)s is not a decimal number: %(v)r") % {"c": column, "v": raw})
    if amount < 0 or (positive and amount == 0):
        rule = _("greater than 0") if positive else _("0 or more")
        raise ValueError(_("%(c)s must be %(rule)s: %(v)r") % {"c": column, "rule": rule, "v": raw})
    if amount >= Decimal("1e12"):
        raise ValueError(_("%(c)s is too large: %(v)r") % {"c": column, "v": raw})
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount:
        raise ValueError(_("%(c)s must have at most 2 decimal places: %(v)r") % {"c": column, "v": raw})
    return cents


def date(values: dict[str, str], column: str) -> datetime.date | None:
    """The column as an ISO date (YYYY-MM-DD); None when empty."""
    raw = values[column]
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("%(c)s is not an ISO date (YYYY-MM-DD): %(v)r") % {"c": column, "v": raw}) from None


def moment(values: dict[str, str], column: str, *, required: bool) -> datetime.datetime | None:
    """An ISO 8601 date-time; without an offset it is read in the lender's time zone (`TIME_ZONE`).

    Every moment an import carries is one the core system saw happen (a consent, a payment): it lies from
    2000-01-01 to five minutes from now (`audit.bounds`).
    """
    raw = values[column]
    if not raw:
        if required:
            raise ValueError(_("%(c)s is required") % {"c": column})
        return None
    try:
        parsed = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("%(c)s is not an ISO 8601 date-time: %(v)r") % {"c": column, "v": raw}) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    if (error := reported_moment_error(parsed)) is not None:
        raise ValueError(_("%(c)s is out of bounds: %(v)r. %(e)s") % {"c": column, "v": raw, "e": error.messages[0]})
    return parsed


def id_number(values: dict[str, str], column: str) -> str:
    """The column as a Chinese resident ID number in its compact form (a lower-case x made upper); may be empty."""
    value = text(values, column, 32, required=False)
    if not value:
        return ""
    compact = ric.compact(value)
    try:
        resident_id_validator(compact)
    except ValidationError as error:
        raise ValueError(_("%(c)s: %(e)s (%(v)r)") % {"c": column, "e": error.messages[0], "v": value}) from None
    return compact


def phone(values: dict[str, str], column: str) -> str:
    """The column as an E.164 phone number."""
    value = text(values, column, 16)
    try:
        e164_validator(value)
    except ValidationError:
        # Masked: import errors reach the console and logs, where a full number must not.
        raise ValueError(
            _("%(c)s must be in E.164 form such as +8613800000000: %(v)r") % {"c": column, "v": mask_phone(value)}
        ) from None
    return value


def zone(values: dict[str, str], column: str) -> str:
    """The column as an IANA time zone name."""
    value = text(values, column, 64)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            _("%(c)s is not an IANA time zone such as Asia/Shanghai: %(v)r") % {"c": column, "v": value}
        ) from None
    return value


def _refuse_control_characters(values: dict[str, str]) -> None:
    # No cell of either file has a use for them: NUL cannot even be stored in PostgreSQL text, and line
    # breaks or escape sequences in a name would reach pages, logs and messages.
    for column, value in values.items():
        if match := CONTROL_CHARACTER.search(value):
            raise ValueError(
                _("%(c)s contains a control character (U+%(code)04X)") % {"c": column, "code": ord(match.group())}
            )


def parse_file(
    stream: TextIO,
    header: Sequence[str],
    parse: Callable[[int, dict[str, str]], T],
    progress: Progress | None = None,
) -> list[T]:
    """Read and parse every row of a file, collecting row problems; raise ImportFileError if there are any."""
    problems = Problems()
    rows: list[T] = []
    count = 0
    for line, values in read_rows(stream, header):
        count += 1
        try:
            _refuse_control_characters(values)
            rows.append(parse(line, values))
        except ValueError as exc:
            problems.add(line, str(exc))
        if progress and count % PROGRESS_EVERY == 0:
            progress(_("read %(n)d rows") % {"n": count})
    problems.raise_if_any()
    return rows


def open_and_parse(
    path: str, header: Sequence[str], parse: Callable[[int, dict[str, str]], T], progress: Progress | None
) -> list[T]:
    """Open the file at `path` and parse it (see parse_file); a file that cannot be read is an ImportFileError."""
    try:
        # utf-8-sig drops a BOM when there is one; newline="" lets csv keep quoted newlines.
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return parse_file(stream, header, parse, progress)
    except OSError as exc:
        raise ImportFileError([(0, _("cannot read %(path)s: %(e)s") % {"path": path, "e": exc.strerror})]) from exc
