"""Signed checkpoints of every custody chain, kept outside the database.

The hash chains and their heads live in the database, so whoever can write the database
file can rewrite an event and recompute every later hash and the head. A checkpoint pins
the chains to something that person cannot rewrite: a Merkle tree head signed with an
Ed25519 key the database never holds, appended to a log outside the database.

Format (like Certificate Transparency's signed tree heads, RFC 6962):

- a leaf per dossier with a chain: ``SHA-256(0x00 || "dossier_id:seq:head_hash")``, in
  dossier-id order; inner nodes ``SHA-256(0x01 || left || right)``, split at the largest
  power of two below the size (RFC 6962 section 2.1); the root of no leaves is SHA-256("");
- a log line per checkpoint, JSON: ``{"payload": {...}, "signature": hex}``; the payload
  holds ``number``, ``made_at``, ``tree_size``, ``events``, ``root``, ``leaves`` (the
  snapshot file's name and SHA-256), ``key`` (the public key, hex) and ``prev`` (the
  SHA-256 of the previous log line), signed as canonical JSON (sorted keys, no spaces);
- the leaves themselves, ``[[dossier_id, seq, head_hash], ...]``, in a snapshot file, so
  verification can name the dossier whose chain changed.

The sink is pluggable (``LocalSink`` writes a folder; an object store is another sink).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ancillary.cases.models import Dossier
from ancillary.custody.models import CustodyEvent, CustodyHead
from ancillary.custody.verify import verify_chains

LOG_NAME = "checkpoints.log"


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def leaf_hash(dossier_id: int, seq: int, head_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{dossier_id}:{seq}:{head_hash}".encode()).digest()


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over already-hashed leaves, built bottom-up in levels."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        # Pairing left to right and carrying an odd last node up gives RFC 6962's tree.
        paired = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class Sink(Protocol):
    def append(self, line: str) -> None: ...
    def last_line(self) -> str | None: ...
    def write_leaves(self, name: str, data: bytes) -> None: ...
    def read_leaves(self, name: str) -> bytes | None: ...


class LocalSink:
    """A folder: an append-only log file and one leaves snapshot per checkpoint."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def append(self, line: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOG_NAME, "a", encoding="utf-8") as log:
            log.write(line + "\n")
            log.flush()

    def last_line(self) -> str | None:
        path = self.folder / LOG_NAME
        if not path.exists():
            return None
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return lines[-1] if lines else None

    def write_leaves(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(data)

    def read_leaves(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.exists() else None


def public_key_hex(seed: bytes) -> str:
    key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def current_leaves(session: Session) -> list[list]:
    """Every chain head as ``[dossier_id, seq, hash]``, in dossier order."""
    rows = session.execute(select(CustodyHead.dossier_id, CustodyHead.seq, CustodyHead.hash)
                           .order_by(CustodyHead.dossier_id))
    return [[d, s, h] for d, s, h in rows]


def make_checkpoint(session: Session, sink: Sink, seed: bytes, *, now: datetime) -> dict:
    """Sign the current chain heads and append the checkpoint; returns its payload."""
    leaves = current_leaves(session)
    events = session.scalar(select(func.count()).select_from(CustodyEvent)) or 0
    previous = sink.last_line()
    number = json.loads(previous)["payload"]["number"] + 1 if previous else 1
    snapshot = _canonical(leaves)
    name = f"leaves-{number:08d}.json"
    sink.write_leaves(name, snapshot)
    payload = {
        "number": number, "made_at": now.isoformat(), "tree_size": len(leaves), "events": events,
        "root": merkle_root([leaf_hash(*leaf) for leaf in leaves]).hex(),
        "leaves": {"name": name, "sha256": hashlib.sha256(snapshot).hexdigest()},
        "key": public_key_hex(seed),
        "prev": hashlib.sha256(previous.encode()).hexdigest() if previous else None,
    }
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(_canonical(payload))
    sink.append(json.dumps({"payload": payload, "signature": signature.hex()}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False))
    return payload


@dataclass
class CheckpointFinding:
    dossier_id: int | None
    seq: int | None
    reason: str  # chain_rewritten, chain_deleted, chain_truncated, checkpoint_*

    def as_dict(self) -> dict:
        return {"id": None, "dossier_id": self.dossier_id, "seq": self.seq, "reason": self.reason}


def _load_latest(sink: Sink, public_hex: str) -> tuple[dict | None, list | None, CheckpointFinding | None]:
    line = sink.last_line()
    if line is None:
        return None, None, None
    try:
        record = json.loads(line)
        payload, signature = record["payload"], bytes.fromhex(record["signature"])
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, _canonical(payload))
    except (ValueError, KeyError, TypeError, InvalidSignature):
        return None, None, CheckpointFinding(None, None, "checkpoint_signature_invalid")
    snapshot = sink.read_leaves(payload["leaves"]["name"])
    if snapshot is None or hashlib.sha256(snapshot).hexdigest() != payload["leaves"]["sha256"]:
        return payload, None, CheckpointFinding(None, None, "checkpoint_leaves_missing")
    leaves = json.loads(snapshot)
    if merkle_root([leaf_hash(*leaf) for leaf in leaves]).hex() != payload["root"]:
        return payload, None, CheckpointFinding(None, None, "checkpoint_leaves_altered")
    return payload, leaves, None


def check_against_latest(session: Session, sink: Sink, public_hex: str) -> tuple[dict | None, CheckpointFinding | None]:
    """Every chain the latest checkpoint pinned must still hold its pinned event, unchanged.

    An event's hash covers every earlier one, so the pinned (seq, hash) still being there
    means the whole prefix is as it was; verify_chains checks the links after it.
    """
    payload, leaves, finding = _load_latest(sink, public_hex)
    if finding or payload is None:
        return payload, finding
    for dossier_id, seq, head_hash in leaves:
        row = session.execute(select(CustodyEvent.hash).where(
            CustodyEvent.dossier_id == dossier_id, CustodyEvent.seq == seq)).first()
        if row is None:
            left = session.scalar(select(func.count()).select_from(CustodyEvent)
                                  .where(CustodyEvent.dossier_id == dossier_id))
            return payload, CheckpointFinding(dossier_id, seq, "chain_truncated" if left else "chain_deleted")
        if row.hash != head_hash:
            return payload, CheckpointFinding(dossier_id, seq, "chain_rewritten")
    return payload, None


def is_due(sink: Sink, now: datetime, minutes: int) -> bool:
    line = sink.last_line()
    if line is None:
        return True
    made_at = datetime.fromisoformat(json.loads(line)["payload"]["made_at"])
    return now - made_at >= timedelta(minutes=minutes) - timedelta(seconds=30)


def sink_for(settings) -> Sink:
    return LocalSink(settings.custody_checkpoint_dir)


def sweep(session: Session, now: datetime, settings) -> dict:
    """The scheduler's job: a signed checkpoint when the last is older than the interval."""
    if settings.custody_signing_key is None:
        return {"unsigned": "no ANCILLARY_CUSTODY_SIGNING_KEY"}
    sink = sink_for(settings)
    if not is_due(sink, now, settings.custody_checkpoint_minutes):
        return {}
    payload = make_checkpoint(session, sink, settings.custody_signing_key, now=now)
    return {"checkpoint": payload["number"], "chains": payload["tree_size"], "events": payload["events"]}


def holder_mismatch(session: Session) -> CheckpointFinding | None:
    """The first dossier whose holder or location is not what its chain's latest event says."""
    effective = func.coalesce(CustodyEvent.device_at, CustodyEvent.server_at)
    ranked = select(
        CustodyEvent.dossier_id, CustodyEvent.seq, CustodyEvent.to_holder_id, CustodyEvent.location,
        func.row_number().over(partition_by=CustodyEvent.dossier_id,
                               order_by=(effective.desc(), CustodyEvent.seq.desc())).label("rank"),
    ).subquery()
    query = (
        select(Dossier.id, ranked.c.seq)
        .join(ranked, (ranked.c.dossier_id == Dossier.id) & (ranked.c.rank == 1))
        .where(or_(
            Dossier.holder_id.is_distinct_from(ranked.c.to_holder_id),
            Dossier.location.is_distinct_from(ranked.c.location),
        ))
        .order_by(Dossier.id).limit(1)
    )
    row = session.execute(query).first()
    return CheckpointFinding(row.id, row.seq, "holder_mismatch") if row else None


@dataclass
class FullVerification:
    ok: bool
    events_checked: int
    first_bad_event: dict | None
    checkpoint: dict | None  # the latest checkpoint's payload, when there is one


def verify_all(session: Session, settings, *, progress=None, every: int = 100_000) -> FullVerification:
    """The chains against the latest signed checkpoint, then link by link, then holders."""
    payload = None
    if settings.custody_signing_key is not None:
        payload, finding = check_against_latest(session, sink_for(settings),
                                                public_key_hex(settings.custody_signing_key))
        if finding:
            return FullVerification(False, 0, finding.as_dict(), payload)
    result = verify_chains(session, progress=progress, every=every)
    if not result.ok:
        return FullVerification(False, result.events_checked, result.first_bad_event.as_dict(), payload)
    finding = holder_mismatch(session)
    if finding:
        return FullVerification(False, result.events_checked, finding.as_dict(), payload)
    return FullVerification(True, result.events_checked, None, payload)
