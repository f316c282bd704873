"""Where signed checkpoints go: an interface, and the filesystem sink AUDIT_CHECKPOINT_DIR uses.

Besides checkpoints (top-level names), a sink keeps other signed notes under folder-like prefixes: the
checkpoints verify runs confirmed (`verified/`), and the files of archived months.
"""

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from django.conf import settings

_NAME = re.compile(r"^checkpoint-(\d{12,})\.txt$")


def checkpoint_name(tree_size: int) -> str:
    """The file name of the checkpoint for `tree_size` events; names sort in tree order."""
    return f"checkpoint-{tree_size:012d}.txt"


def checkpoint_size(name: str) -> int | None:
    """The tree size a checkpoint file name gives, or None when it is not a checkpoint's name."""
    match = _NAME.match(name)
    return int(match.group(1)) if match else None


class CheckpointSink(Protocol):
    """Somewhere outside the database that keeps checkpoints; an object store can implement this later."""

    def write(self, name: str, text: str) -> None:
        """Store one checkpoint durably under `name`; never overwrite a different one."""

    def names(self) -> list[str]:
        """Every stored checkpoint name, in tree order."""

    def read(self, name: str) -> str:
        """The exact text of one stored checkpoint."""

    def listing(self, folder: str) -> list[str]:
        """Every name stored under `folder/` (the folder included in each name; the top level's for ""), sorted."""

    def write_chunks(self, name: str, chunks: Iterable[bytes]) -> str:
        """Store the concatenated chunks durably under `name` (a new name: never overwrite); their SHA-256 (hex)."""

    def read_chunks(self, name: str) -> Iterator[bytes]:
        """The stored bytes of `name`, a piece at a time; FileNotFoundError when there is no such name."""


class FilesystemSink:
    """One file per checkpoint in a directory; written atomically and fsynced."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def write(self, name: str, text: str) -> None:
        """Write `text` to `name` through a temporary file and a rename, so a reader never sees half a file."""
        target = self.directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if target.read_text(encoding="utf-8") == text:
                return
            raise FileExistsError(f"checkpoint {name} already exists with other content")
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, target)  # fails rather than replaces if another sealer got there first
        finally:
            os.unlink(temporary)
        directory_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)

    def names(self) -> list[str]:
        """Checkpoint file names in the directory, in tree order."""
        if not self.directory.is_dir():
            return []
        found = [entry.name for entry in os.scandir(self.directory) if _NAME.match(entry.name)]
        return sorted(found, key=lambda name: int(_NAME.match(name).group(1)))

    def read(self, name: str) -> str:
        """The text of one checkpoint file."""
        return (self.directory / name).read_text(encoding="utf-8")

    def listing(self, folder: str) -> list[str]:
        """Every name under `folder/` as `folder/<name>` (the top level's names for ""), sorted, temporary
        files left out."""
        base = self.directory / folder if folder else self.directory
        if not base.is_dir():
            return []
        prefix = f"{folder}/" if folder else ""
        return sorted(prefix + entry.name for entry in os.scandir(base) if not entry.name.startswith("."))

    def write_chunks(self, name: str, chunks: Iterable[bytes]) -> str:
        """Write the chunks to `name` through a temporary file and a rename; their SHA-256 (hex)."""
        target = self.directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, target)  # fails rather than replaces an existing file
        finally:
            os.unlink(temporary)
        return digest.hexdigest()

    def read_chunks(self, name: str) -> Iterator[bytes]:
        """The file's bytes, a megabyte at a time."""
        with (self.directory / name).open("rb") as handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    def exists(self, name: str) -> bool:
        """Whether checkpoint `name` has been written (without listing the directory)."""
        return (self.directory / name).is_file()


def sink_has(sink: CheckpointSink, name: str) -> bool:
    """Whether the sink holds checkpoint `name` (without listing them all where the sink can say)."""
    exists = getattr(sink, "exists", None)
    return bool(exists(name)) if exists else name in sink.names()


def default_sink() -> CheckpointSink:
    """The configured sink: files in AUDIT_CHECKPOINT_DIR."""
    return FilesystemSink(settings.AUDIT_CHECKPOINT_DIR)
