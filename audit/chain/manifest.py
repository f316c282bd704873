"""The signed manifest of one archived month: what its files hold, which seqs, and the checkpoint that proves them.

A C2SP signed note by the audit key, its own origin (`<origin>/archive`, so it is never taken for a checkpoint):

    <origin>/archive
    2026-10
    from 2026-10-01T00:00:00+08:00
    through 2026-11-01T00:00:00+08:00
    complete yes
    checkpoint <tree size> <sha256 of checkpoint.txt>
    events <count> <sha256 of events.jsonl>
    chain <sha256 of chain.jsonl>
    proof <sha256 of proof.json>
    seqs 1-400,405,410-510
    time <when it was written>

`complete yes` says every event of the month was sealed and archived (the month was over); only a complete
month may be detached. The seqs are runs, not one range: late commits interleave one month's seqs with the
next's.
"""

import datetime
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.notes import NoteError, open_note, origin, sign_note, signing_key

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_SHA = r"[0-9a-f]{64}"
_LINES = (
    ("from", r"(\S+)"),
    ("through", r"(\S+)"),
    ("complete", r"(yes|no)"),
    ("checkpoint", rf"([1-9]\d*) ({_SHA})"),
    ("events", rf"(\d+) ({_SHA})"),
    ("chain", rf"({_SHA})"),
    ("proof", rf"({_SHA})"),
    ("seqs", r"((?:[1-9]\d*(?:-[1-9]\d*)?)(?:,[1-9]\d*(?:-[1-9]\d*)?)*)"),
    ("time", r"(\S+)"),
)

Runs = tuple[tuple[int, int], ...]


def runs_text(runs: Runs) -> str:
    """`1-400,405` for the inclusive runs ((1, 400), (405, 405))."""
    return ",".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


def _runs_parse(text: str) -> Runs:
    runs = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        runs.append((int(first), int(last or first)))
    touching = any(a[1] + 1 >= b[0] for a, b in zip(runs, runs[1:], strict=False))
    if touching or any(first > last for first, last in runs):
        raise NoteError("seq runs out of order")
    return tuple(runs)


@dataclass(frozen=True)
class Manifest:
    """What one archived month's manifest says."""

    month: str
    start: datetime.datetime
    end: datetime.datetime
    complete: bool
    tree_size: int
    checkpoint_sha256: str
    events: int
    events_sha256: str
    chain_sha256: str
    proof_sha256: str
    runs: Runs
    time: str

    def body(self) -> str:
        """The note text that gets signed."""
        lines = [
            f"{origin()}/archive",
            self.month,
            f"from {self.start.isoformat()}",
            f"through {self.end.isoformat()}",
            f"complete {'yes' if self.complete else 'no'}",
            f"checkpoint {self.tree_size} {self.checkpoint_sha256}",
            f"events {self.events} {self.events_sha256}",
            f"chain {self.chain_sha256}",
            f"proof {self.proof_sha256}",
            f"seqs {runs_text(self.runs)}",
            f"time {self.time}",
        ]
        return "\n".join(lines) + "\n"

    def sign(self) -> str:
        """The signed manifest (AUDIT_SIGNING_KEY)."""
        return sign_note(self.body(), origin(), signing_key())


def manifest_open(text: str, key: Ed25519PublicKey) -> Manifest:
    """The manifest in `text` once its signature by the audit key verifies and every line parses; NoteError else."""
    lines = open_note(text, origin(), key).split("\n")[:-1]
    if len(lines) != 2 + len(_LINES) or lines[0] != f"{origin()}/archive" or not MONTH_RE.match(lines[1]):
        raise NoteError("not an archive manifest of this log")
    values = []
    for line, (keyword, pattern) in zip(lines[2:], _LINES, strict=True):
        match = re.fullmatch(rf"{keyword} {pattern}", line)
        if not match:
            raise NoteError(f"malformed manifest line: {line[:80]}")
        values.append(match.groups())
    try:
        start, end = (datetime.datetime.fromisoformat(values[n][0]) for n in (0, 1))
    except ValueError as exc:
        raise NoteError("malformed month bounds") from exc
    if start.tzinfo is None or end.tzinfo is None or start >= end:
        raise NoteError("malformed month bounds")
    return Manifest(
        month=lines[1],
        start=start,
        end=end,
        complete=values[2][0] == "yes",
        tree_size=int(values[3][0]),
        checkpoint_sha256=values[3][1],
        events=int(values[4][0]),
        events_sha256=values[4][1],
        chain_sha256=values[5][0],
        proof_sha256=values[6][0],
        runs=_runs_parse(values[7][0]),
        time=values[8][0],
    )
