"""Where signed checkpoints are kept: a local folder, and the object store when one is configured.

Both are append-only by name, so a copy in one place can be compared with the other:

- ``local``: ``checkpoints.log`` in ``ANCILLARY_CUSTODY_CHECKPOINT_DIR``, one JSON line per
  checkpoint, and ``leaves-NNNNNNNN.json`` beside it;
- ``object_store`` (``ANCILLARY_STORAGE=s3``): ``custody-checkpoints/checkpoint-NNNNNNNN.json``
  holding the same line, and ``custody-checkpoints/leaves-NNNNNNNN.json``.

Nothing is overwritten: a name that exists is never written again (the object store's
conditional write, a hard link locally). Writing the very same bytes again is a harmless
retry; other bytes under a taken name raise :class:`CheckpointTaken`. The object store is
meant to be one the database host's administrators cannot delete from (a bucket with
object lock or versioning, on another machine): that is what makes it a second witness.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

from ancillary.storage import storage_for

LOG_NAME = "checkpoints.log"
PREFIX = "custody-checkpoints"
LOCAL, OBJECT_STORE = "local", "object_store"
TAIL_BYTES = 1 << 16  # a checkpoint line is well under 1 KB; the tail always holds the last one


class CheckpointTaken(RuntimeError):
    """A checkpoint or leaves name already holds other bytes: nothing is overwritten."""


def number_of(line: str) -> int:
    return int(json.loads(line)["payload"]["number"])


def leaves_name(number: int) -> str:
    return f"leaves-{number:08d}.json"


class Sink(Protocol):
    name: str

    def append(self, number: int, line: str) -> None: ...
    def last_line(self) -> str | None: ...
    def line(self, number: int) -> str | None: ...
    def write_leaves(self, name: str, data: bytes) -> None: ...
    def read_leaves(self, name: str) -> bytes | None: ...


class LocalSink:
    """A folder: an append-only log file and one leaves snapshot per checkpoint."""

    name = LOCAL

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def log(self) -> Path:
        return self.folder / LOG_NAME

    def append(self, number: int, line: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a", encoding="utf-8") as log:
            log.write(line + "\n")
            log.flush()
            os.fsync(log.fileno())

    def lines(self) -> list[str]:
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def last_line(self) -> str | None:
        if not self.log.exists():
            return None
        with open(self.log, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - TAIL_BYTES))
            tail = log.read().decode("utf-8", errors="replace").splitlines()
        lines = [line for line in tail if line.strip()]
        return lines[-1] if lines else None

    def line(self, number: int) -> str | None:
        for line in self.lines():
            try:
                if number_of(line) == number:
                    return line
            except (ValueError, KeyError, TypeError):
                continue
        return None

    def write_leaves(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        try:
            with open(path, "xb") as out:
                out.write(data)
        except FileExistsError:
            if path.read_bytes() != data:
                raise CheckpointTaken(f"{path} exists with other content") from None

    def read_leaves(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.exists() else None


class StoreSink:
    """The object store: one object per checkpoint line and one per leaves snapshot."""

    name = OBJECT_STORE

    def __init__(self, store):
        self.store = store

    @staticmethod
    def key(number: int) -> str:
        return f"{PREFIX}/checkpoint-{number:08d}.json"

    def _put_new(self, key: str, data: bytes) -> None:
        try:
            self.store.put_new(key, data, "application/json")
        except FileExistsError:
            if self.store.get(key) != data:
                raise CheckpointTaken(f"the object store already holds {key} with other content") from None

    def append(self, number: int, line: str) -> None:
        self._put_new(self.key(number), line.encode())

    def last_line(self) -> str | None:
        names = [key for key, _ in self.store.listing(PREFIX) if key.startswith(f"{PREFIX}/checkpoint-")]
        if not names:
            return None
        content = self.store.get(max(names))  # zero-padded numbers sort as numbers
        return content.decode("utf-8", errors="replace").strip() if content is not None else None

    def line(self, number: int) -> str | None:
        content = self.store.get(self.key(number))
        return content.decode("utf-8", errors="replace").strip() if content is not None else None

    def write_leaves(self, name: str, data: bytes) -> None:
        self._put_new(f"{PREFIX}/{name}", data)

    def read_leaves(self, name: str) -> bytes | None:
        return self.store.get(f"{PREFIX}/{name}")


def sinks_for(settings, places: tuple[str, ...] | None = None) -> list[Sink]:
    """The places the settings keep checkpoints in (``places`` narrows them), local first."""
    sinks: list[Sink] = [LocalSink(settings.custody_checkpoint_dir)]
    if settings.storage_backend == "s3":
        sinks.append(StoreSink(storage_for(settings)))
    return [sink for sink in sinks if places is None or sink.name in places]


def mirror(local: LocalSink, other: Sink, *, accept) -> list[int]:
    """Copy the checkpoints ``local`` holds after ``other``'s copy of them ends; the numbers copied.

    Used when the object store was away as a checkpoint was made, or is newly configured.
    Only lines ``accept(line)`` (a valid signature) are copied, oldest first, never over
    anything the other place holds.
    """
    held = {}
    for line in local.lines():
        try:
            held[number_of(line)] = line
        except (ValueError, KeyError, TypeError):
            continue
    missing = []
    for number in sorted(held, reverse=True):
        if other.line(number) is not None:
            break
        missing.append(number)
    copied = []
    for number in reversed(missing):
        line = held[number]
        if not accept(line):
            continue
        leaves = local.read_leaves(leaves_name(number))
        if leaves is not None:
            other.write_leaves(leaves_name(number), leaves)
        other.append(number, line)
        copied.append(number)
    return copied
