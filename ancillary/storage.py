"""Files kept beside the database (evidence photos, scanned PDFs), so that a file and its row agree.

A service never writes into the storage folder itself. It calls :func:`stage`, which writes
the bytes at once to a private file under ``<storage_dir>/.staging/<token>/`` (a full disk
fails the request, not the commit) and remembers it on the session. When the session
commits, each staged file is moved into its place (``os.replace``: atomic, and harmless
when the same content is already there); when it rolls back, the staged files are deleted.
So a refused or failed request leaves nothing behind, and a file reaches its place only
after the row that names it is committed.

What can still go wrong is a process that dies in between. :func:`sweep_orphans` (run by
each context's sweep for its own folder) finishes the job: a staged file whose row was
committed is moved into place, any other staged file is deleted, and a file in the folder
that no row names is deleted. Files younger than the grace period are left alone, since a
request may be writing them right now. The folder is listed *before* the rows are read, so
a file moved into place meanwhile already has its row committed.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

STAGING = ".staging"
KEY = "ancillary.storage.staged"
GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Staged:
    path: Path  # the private staging file
    target: Path  # where it goes once the row is committed


def stage(session: Session, storage_dir: Path, relative: str, content: bytes) -> str:
    """Write ``content`` for ``storage_dir/relative``; it lands there when ``session`` commits."""
    root = Path(storage_dir)
    path = root / STAGING / uuid.uuid4().hex / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    session.info.setdefault(KEY, []).append(Staged(path=path, target=root / relative))
    return relative


def _place(staged: Staged) -> None:
    staged.target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged.path, staged.target)
    _remove_empty_parents(staged.path.parent)


def _remove_empty_parents(folder: Path) -> None:
    """Remove ``folder`` and its parents up to the staging folder while they are empty."""
    while STAGING in folder.parts and folder.name != STAGING:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _after_commit(session: Session) -> None:
    for staged in session.info.pop(KEY, []):
        try:
            _place(staged)
        except OSError:  # the sweep moves it into place later: its row is committed
            log.exception("could not move %s into place", staged.target)


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint: the request may still commit; the sweep tidies what it left
    for staged in session.info.pop(KEY, []):
        staged.path.unlink(missing_ok=True)
        _remove_empty_parents(staged.path.parent)


def install() -> None:
    """Listen to every session's commit and rollback (once; called by ``ancillary.wiring``)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


def read(storage_dir: Path, relative: str) -> bytes | None:
    path = Path(storage_dir) / relative
    return path.read_bytes() if path.is_file() else None


def _old_files(folder: Path, before: float) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime < before]


def sweep_orphans(storage_dir: Path, folder: str, referenced: Callable[[], set[str]], *, now: datetime,
                  grace: timedelta = GRACE) -> dict:
    """Tidy ``storage_dir/folder``: place staged files whose row exists, delete unnamed ones.

    ``referenced()`` gives the relative paths (``folder/...``) that committed rows name; it
    is called after the folder is listed. Returns what was done (empty when nothing).
    """
    root = Path(storage_dir)
    before = (now - grace).timestamp()
    staged = [p for p in _old_files(root / STAGING, before)
              if len(p.relative_to(root / STAGING).parts) > 2 and p.relative_to(root / STAGING).parts[1] == folder]
    placed = _old_files(root / folder, before)
    names = referenced()
    result = {"recovered": 0, "orphans_removed": 0}
    for path in staged:
        relative = Path(*path.relative_to(root / STAGING).parts[1:])
        if str(relative) in names and not (root / relative).exists():
            _place(Staged(path=path, target=root / relative))
            result["recovered"] += 1
        else:
            path.unlink(missing_ok=True)
            _remove_empty_parents(path.parent)
            result["orphans_removed"] += 0 if str(relative) in names else 1
    for path in placed:
        if str(path.relative_to(root)) not in names:
            path.unlink(missing_ok=True)
            result["orphans_removed"] += 1
    return {name: count for name, count in result.items() if count}
