"""Checking an archive offline, with AUDIT_PUBLIC_KEY alone: every month's manifest, files, entries and proofs.

For each `YYYY-MM/` directory: the manifest's signature; each file's SHA-256 against the manifest; the
checkpoint's signature and size; each line of `events.jsonl` an entry of the listed seqs, in order, that
occurred in that month; each line of `chain.jsonl` that entry's chain hash from the previous one (and the
previous one of a run the hash of the line before); and, for each run of seqs, its range proof leading from
its entries to the checkpoint's root. Files are streamed: a month of any size is checked in constant memory.
"""

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain.manifest import MONTH_RE, Manifest, manifest_open
from audit.encoding import chain_hash
from audit.merkle import RangeRoots, leaf_hash, range_split, root_from_range
from audit.notes import Checkpoint, NoteError, checkpoint_open
from audit.sinks import CheckpointSink

ARCHIVE_FILES = ("manifest.txt", "checkpoint.txt", "events.jsonl", "chain.jsonl", "proof.json")


class ArchiveMissing(ValueError):
    """There is no archive to check (exit 2): no month directory, or one without its manifest."""


@dataclass
class MonthCheck:
    """What checking one archived month found."""

    month: str
    events: int = 0
    first_bad_seq: int | None = None
    reasons: list[str] = field(default_factory=list)
    manifest: Manifest | None = None

    @property
    def ok(self) -> bool:
        """Whether the month's archive holds."""
        return not self.reasons

    def bad(self, reason: str, seq: int | None = None) -> None:
        """Note one finding, and its seq when one is known."""
        self.reasons.append(reason)
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq


def archive_months(source: CheckpointSink) -> list[str]:
    """The archived months in `source`; ArchiveMissing when there are none or one lacks its manifest."""
    months = [name for name in source.listing("") if MONTH_RE.match(name) and source.listing(name)]
    if not months:
        raise ArchiveMissing("no archived month (YYYY-MM directory) here")
    for month in months:
        if f"{month}/manifest.txt" not in source.listing(month):
            raise ArchiveMissing(f"{month} has no manifest.txt")
    return months


def _lines(source: CheckpointSink, name: str, digest: Any) -> Iterator[bytes]:
    """The lines of a stored file (without their newline), hashing every byte read into `digest`."""
    rest = b""
    for chunk in source.read_chunks(name):
        digest.update(chunk)
        rest += chunk
        *lines, rest = rest.split(b"\n")
        yield from lines
    if rest:
        yield rest  # a last line without its newline: the digest tells


def _read(source: CheckpointSink, name: str, check: MonthCheck) -> bytes | None:
    try:
        return b"".join(source.read_chunks(name))
    except (FileNotFoundError, OSError) as exc:
        check.bad(f"{name}: cannot be read ({exc})")
        return None


def _proof_runs(document: Any, manifest: Manifest) -> dict[tuple[int, int], list[bytes]] | None:
    """The range proof of each run, when proof.json is well formed and lists exactly the manifest's runs."""
    if not isinstance(document, dict) or document.get("tree_size") != manifest.tree_size:
        return None
    runs: dict[tuple[int, int], list[bytes]] = {}
    for run in document.get("runs") if isinstance(document.get("runs"), list) else [None]:
        if not isinstance(run, dict) or not all(isinstance(run.get(key), int) for key in ("first", "last")):
            return None
        try:
            runs[(run["first"], run["last"])] = [bytes.fromhex(node) for node in run.get("nodes", [])]
        except (TypeError, ValueError):
            return None
    return runs if tuple(runs) == manifest.runs else None


def _header(source: CheckpointSink, month: str, key: Ed25519PublicKey, check: MonthCheck) -> tuple | None:
    """The manifest, checkpoint and proofs of one month, each checked against the manifest; None when one fails."""
    try:
        manifest = manifest_open(source.read(f"{month}/manifest.txt"), key)
    except (NoteError, UnicodeDecodeError, OSError) as exc:
        check.bad(f"manifest: {exc}")
        return None
    check.manifest = manifest
    if manifest.month != month:
        check.bad(f"the manifest is of {manifest.month}")
    checkpoint_bytes = _read(source, f"{month}/checkpoint.txt", check)
    proof_bytes = _read(source, f"{month}/proof.json", check)
    if checkpoint_bytes is None or proof_bytes is None:
        return None
    if hashlib.sha256(checkpoint_bytes).hexdigest() != manifest.checkpoint_sha256:
        check.bad("checkpoint.txt is not the file the manifest lists")
    if hashlib.sha256(proof_bytes).hexdigest() != manifest.proof_sha256:
        check.bad("proof.json is not the file the manifest lists")
    try:
        checkpoint = checkpoint_open(checkpoint_bytes.decode(), key)
        proofs = _proof_runs(json.loads(proof_bytes), manifest)
    except (NoteError, UnicodeDecodeError, ValueError) as exc:
        check.bad(f"checkpoint or proof: {exc}")
        return None
    if checkpoint.tree_size != manifest.tree_size or proofs is None:
        check.bad("the checkpoint or the proofs do not match the manifest")
        return None
    return manifest, checkpoint, proofs


@dataclass
class _Run:
    """The run of seqs being read: where it starts and ends, and its leaves' subtrees so far."""

    first: int
    last: int
    inside: RangeRoots


def _line_problem(
    seq: int, event_line: bytes, chain_line: bytes, previous: bytes | None, manifest: Manifest
) -> str | None:
    """Why one event line and its chain line do not hold, if they do not (`previous`: the line before's hash)."""
    try:
        event, chained = json.loads(event_line), json.loads(chain_line)
        occurred = datetime.datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
        hashes = bytes.fromhex(chained["previous"]), bytes.fromhex(chained["hash"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"seq {seq}: a line does not parse"
    if event.get("seq") != seq or chained.get("seq") != seq:
        return f"seq {seq}: the lines are of another seq"
    if not manifest.start <= occurred < manifest.end:
        return f"seq {seq}: occurred outside {manifest.month}"
    if chain_hash(hashes[0], event_line) != hashes[1] or (previous is not None and hashes[0] != previous):
        return f"seq {seq}: its chain hash does not follow"
    return None


def _entries(source: CheckpointSink, month: str, header: tuple, check: MonthCheck) -> tuple[str, str]:
    """Read events.jsonl and chain.jsonl side by side, checking each entry and each run's proof; their digests."""
    manifest, checkpoint, proofs = header
    events_digest, chain_digest = hashlib.sha256(), hashlib.sha256()
    seqs = iter(seq for first, last in manifest.runs for seq in range(first, last + 1))
    event_lines = _lines(source, f"{month}/events.jsonl", events_digest)
    chain_lines = _lines(source, f"{month}/chain.jsonl", chain_digest)
    run: _Run | None = None
    previous: bytes | None = None
    for event_line, chain_line in zip(event_lines, chain_lines, strict=False):
        seq = next(seqs, None)
        if seq is None:
            check.bad("more lines than the manifest's seqs", manifest.runs[-1][1] + 1)
            break
        check.events += 1
        if run is None or seq > run.last:
            run, previous = _run_at(seq, manifest), None
        if problem := _line_problem(seq, event_line, chain_line, previous, manifest):
            check.bad(problem, seq)
        previous = None if problem else bytes.fromhex(json.loads(chain_line)["hash"])
        run.inside.extend([leaf_hash(event_line)])
        if seq == run.last:
            _run_holds(run, proofs, checkpoint, manifest, check)
    if (missing := next(seqs, None)) is not None:
        check.bad(f"seq {missing} and later: fewer lines than the manifest's seqs", missing)
    for _ in event_lines:  # read to the end, so the digests cover the whole files
        pass
    for _ in chain_lines:
        pass
    return events_digest.hexdigest(), chain_digest.hexdigest()


def _run_at(seq: int, manifest: Manifest) -> _Run:
    """The run of the manifest that holds `seq`, ready to take its leaves."""
    first, last = next((a, b) for a, b in manifest.runs if a <= seq <= b)
    return _Run(first, last, RangeRoots(range_split(first - 1, last, manifest.tree_size)[1], first - 1))


def _run_holds(run: _Run, proofs: dict, checkpoint: Checkpoint, manifest: Manifest, check: MonthCheck) -> None:
    nodes = proofs[(run.first, run.last)]
    root = root_from_range(run.first - 1, run.last, manifest.tree_size, run.inside.roots(), nodes)
    if root != checkpoint.root:
        check.bad(f"seqs {run.first}-{run.last}: the proof does not lead to the checkpoint's root", run.first)


def month_check(source: CheckpointSink, month: str, key: Ed25519PublicKey) -> MonthCheck:
    """Check one archived month offline."""
    check = MonthCheck(month)
    header = _header(source, month, key, check)
    if header is None:
        return check
    manifest = header[0]
    try:
        events_sha, chain_sha = _entries(source, month, header, check)
    except (FileNotFoundError, OSError) as exc:
        check.bad(f"events or chain: cannot be read ({exc})")
        return check
    if check.events != manifest.events:
        check.bad(f"{check.events} events where the manifest lists {manifest.events}")
    if (events_sha, chain_sha) != (manifest.events_sha256, manifest.chain_sha256):
        check.bad("events.jsonl or chain.jsonl is not the file the manifest lists")
    return check


def archive_check(source: CheckpointSink, key: Ed25519PublicKey) -> list[MonthCheck]:
    """Check every archived month in `source`; ArchiveMissing when there is no archive there."""
    return [month_check(source, month, key) for month in archive_months(source)]
