"""Where files live: service photos, archive scans, label sheets.

One small interface, two places:

- ``local`` (default): a folder, ``ANCILLARY_STORAGE_DIR``; right for one machine.
- ``s3``: an S3-compatible object store (MinIO, Ceph, a cloud's), through boto3, so web
  processes on several machines see the same files. ``ANCILLARY_STORAGE=s3`` with
  ``ANCILLARY_S3_ENDPOINT``, ``ANCILLARY_S3_BUCKET``, ``ANCILLARY_S3_REGION`` and the keys
  ``ANCILLARY_S3_ACCESS_KEY`` / ``ANCILLARY_S3_SECRET_KEY``.

A key is a relative path such as ``service/ab/<sha256>.jpg``. Files are named by their
content hash and written once, so a write that is repeated (a retry, two processes)
writes the same bytes and nothing is half-written: the folder writes a temporary file and
renames it; an S3 PUT is atomic.

A file and its row agree. A service never puts a file itself: it calls :func:`stage`,
which writes the bytes at once to a private file under ``<ANCILLARY_STORAGE_DIR>/.staging/``
(a full disk fails the request, not the commit) and remembers it on the session. When the
session commits, each staged file is put into the store and its staging copy deleted; when
it rolls back, the staged files are deleted. A refused or failed request leaves nothing
behind, and a file reaches the store only after the row that names it is committed.

A process that dies in between is tidied by :func:`sweep_orphans` (each context's sweep, for
its own folder): a staged file whose row was committed is put into the store, any other
staged file is deleted, and a stored file no row names is deleted. Files younger than an
hour are left alone, since a request may be writing them. The store is listed *before* the
rows are read, so a file put meanwhile already has its row committed.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

KEY = re.compile(r"^[a-z0-9_-]+(/[A-Za-z0-9_.-]+)+$")


class StorageError(RuntimeError):
    """The store cannot be used; the message names the setting to look at."""


def _checked(key: str) -> str:
    if not KEY.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root)

    def put(self, key: str, content: bytes, content_type: str = "application/octet-stream") -> str:
        target = self.root / _checked(key)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
            temporary.write_bytes(content)
            os.replace(temporary, target)
        return key

    def put_new(self, key: str, content: bytes, content_type: str = "application/octet-stream") -> str:
        """Write ``key`` only if nothing has that name yet (FileExistsError otherwise): never an overwrite."""
        target = self.root / _checked(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        temporary.write_bytes(content)
        try:
            os.link(temporary, target)  # atomic, and refuses an existing name, unlike a rename
        finally:
            temporary.unlink()
        return key

    def get(self, key: str) -> bytes | None:
        path = self.root / _checked(key)
        return path.read_bytes() if path.is_file() else None

    def exists(self, key: str) -> bool:
        return (self.root / _checked(key)).is_file()

    def listing(self, prefix: str) -> list[tuple[str, float]]:
        """Every key under ``prefix/`` with its modification time (seconds since the epoch)."""
        return list(_files(self.root / prefix, prefix))

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".probe.{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StorageError(f"ANCILLARY_STORAGE_DIR={self.root} cannot be written: {exc.strerror}") from None


class S3Storage:
    def __init__(self, *, bucket: str, endpoint: str, region: str, access_key: str, secret_key: str):
        # boto3 takes about a second to import: only a court that uses S3 pays for it, at first use.
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        self.ClientError, self.BotoCoreError = ClientError, BotoCoreError
        self.bucket = bucket
        self.endpoint = endpoint
        self.client = boto3.client(
            "s3", endpoint_url=endpoint or None, region_name=region or None,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}))

    def put(self, key: str, content: bytes, content_type: str = "application/octet-stream") -> str:
        self.client.put_object(Bucket=self.bucket, Key=_checked(key), Body=content, ContentType=content_type)
        return key

    def put_new(self, key: str, content: bytes, content_type: str = "application/octet-stream") -> str:
        """Write ``key`` only if nothing has that name yet (FileExistsError otherwise): S3's conditional
        write (``If-None-Match: *``), so two writers cannot both succeed and nothing is overwritten."""
        try:
            self.client.put_object(Bucket=self.bucket, Key=_checked(key), Body=content, ContentType=content_type,
                                   IfNoneMatch="*")
        except self.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise FileExistsError(key) from None
            raise
        return key

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=_checked(key))["Body"].read()
        except self.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def listing(self, prefix: str) -> list[tuple[str, float]]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{prefix}/"):
            found += [(item["Key"], item["LastModified"].timestamp()) for item in page.get("Contents", [])]
        return found

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=_checked(key))
            return True
        except self.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except self.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            raise StorageError(f"ANCILLARY_S3_BUCKET={self.bucket!r}: the object store answers {code}") from None
        except self.BotoCoreError as exc:
            raise StorageError(f"ANCILLARY_S3_ENDPOINT={self.endpoint!r}: the object store cannot be reached "
                               f"({exc.__class__.__name__})") from None


_stores: dict[tuple, object] = {}
_lock = threading.Lock()


def _forget_after_fork() -> None:
    """A forked child makes its own clients: an HTTP pool must not be shared across a fork."""
    global _lock
    _stores.clear()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def storage_for(settings, *, fresh: bool = False):
    """The store the settings name (one client per process and configuration)."""
    if settings.storage_backend == "s3" and fresh:
        return S3Storage(bucket=settings.s3_bucket, endpoint=settings.s3_endpoint, region=settings.s3_region,
                         access_key=settings.s3_access_key, secret_key=settings.s3_secret_key)
    if settings.storage_backend == "s3":
        config = (settings.s3_bucket, settings.s3_endpoint, settings.s3_region, settings.s3_access_key,
                  settings.s3_secret_key)
        with _lock:
            if config not in _stores:
                _stores[config] = S3Storage(bucket=config[0], endpoint=config[1], region=config[2],
                                            access_key=config[3], secret_key=config[4])
            return _stores[config]
    return LocalStorage(settings.storage_dir)


# --- staging: a file reaches the store only with its committed row ---------------------------

STAGING = ".staging"
STAGED = "ancillary.storage.staged"
GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Staged:
    path: Path  # the private staging copy
    key: str
    content_type: str
    settings: object
    savepoint: object = None  # the savepoint it was staged in: rolled back, it takes the file with it


def stage(session: Session, settings, key: str, content: bytes, content_type: str = "application/octet-stream") -> str:
    """Write ``content`` for ``key``; it reaches the store when ``session`` commits."""
    path = Path(settings.storage_dir) / STAGING / uuid.uuid4().hex / _checked(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    own = session if isinstance(session, Session) else session()  # a scoped session: the session it holds
    staged = Staged(path, key, content_type, settings, own.get_nested_transaction())
    session.info.setdefault(STAGED, []).append(staged)
    return key


def _put(staged: Staged) -> None:
    storage_for(staged.settings).put(staged.key, staged.path.read_bytes(), staged.content_type)
    _discard(staged.path)


def _discard(path: Path) -> None:
    """Delete a staging copy and the folders it leaves empty."""
    path.unlink(missing_ok=True)
    folder = path.parent
    while STAGING in folder.parts and folder.name != STAGING:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _after_commit(session: Session) -> None:
    for staged in session.info.pop(STAGED, []):
        try:
            _put(staged)
        except Exception:  # noqa: BLE001 - the sweep puts it later: its row is committed
            log.exception("could not store %s after its commit", staged.key)


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint: only what was staged inside it goes
        kept = []
        for staged in session.info.get(STAGED, []):
            if _inside(staged.savepoint, previous_transaction):
                _discard(staged.path)
            else:
                kept.append(staged)
        session.info[STAGED] = kept
        return
    for staged in session.info.pop(STAGED, []):
        _discard(staged.path)


def _inside(transaction, savepoint) -> bool:
    """Whether ``transaction`` is ``savepoint`` or nested within it."""
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


def install() -> None:
    """Listen to every session's commit and rollback (once; called by ``ancillary.wiring``)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


def _files(folder: Path, prefix: str) -> Iterator[tuple[str, float]]:
    """(``prefix/relative/path``, modification time) of every file under ``folder``, at any depth.

    ``os.scandir`` knows a file from a folder without a ``stat`` of its own: a store of many
    thousand files is listed at each tick.
    """
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _files(Path(entry.path), f"{prefix}/{entry.name}")
        elif entry.is_file(follow_symlinks=False):
            try:
                yield f"{prefix}/{entry.name}", entry.stat().st_mtime
            except FileNotFoundError:  # deleted meanwhile
                continue


def sweep_orphans(settings, folder: str, referenced: Callable[[list[str]], set[str]], *, now: datetime,
                  grace: timedelta = GRACE) -> dict:
    """Tidy ``folder``: put staged files whose row exists, delete files no row names.

    ``referenced(keys)`` answers which of ``keys`` (``folder/...``) committed rows name; it is
    asked only about the files found, after the store is listed. Returns what was done (empty
    when nothing).
    """
    before = (now - grace).timestamp()
    staging = Path(settings.storage_dir) / STAGING
    staged = []  # (staging path, key) of staged files of ``folder``: .staging/<request>/<folder>/...
    for request in (os.scandir(staging) if staging.is_dir() else ()):
        if request.is_dir(follow_symlinks=False):
            staged += [(staging / request.name / key, key) for key, mtime in
                       _files(Path(request.path) / folder, folder) if mtime < before]
    store = storage_for(settings)
    stored = [key for key, mtime in store.listing(folder) if mtime < before]
    names = referenced(sorted({key for _, key in staged} | set(stored))) if staged or stored else set()
    result = {"recovered": 0, "orphans_removed": 0}
    for path, key in staged:
        if key in names and not store.exists(key):
            _put(Staged(path, key, "application/octet-stream", settings))
            result["recovered"] += 1
        else:
            _discard(path)
            result["orphans_removed"] += key not in names
    for key in stored:
        if key not in names:
            store.delete(key)
            result["orphans_removed"] += 1
    return {name: count for name, count in result.items() if count}
