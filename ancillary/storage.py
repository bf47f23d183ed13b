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
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

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

    def get(self, key: str) -> bytes | None:
        path = self.root / _checked(key)
        return path.read_bytes() if path.is_file() else None

    def exists(self, key: str) -> bool:
        return (self.root / _checked(key)).is_file()

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

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=_checked(key))["Body"].read()
        except self.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

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
