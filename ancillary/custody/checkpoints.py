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

Checkpoints are kept in a local folder and, when configured, in the object store too
(``checkpoint_sinks``); verification reads the latest from each, and names a copy that is
missing or disagrees. It needs only the public key: an auditor who never holds the signing
key verifies with ``ANCILLARY_CUSTODY_PUBLIC_KEY`` or ``custody verify --public-key``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from ancillary.custody.checkpoint_sinks import LOCAL, Sink, leaves_name, mirror, number_of, sinks_for
from ancillary.custody.checkpoint_tree import current_tree, leaf_hash, remember
from ancillary.custody.models import CustodyEvent
from ancillary.custody.verify import verify_chains
from ancillary.custody.verify_log import first_broken_link

log = logging.getLogger(__name__)
PINNED_BATCH = 500  # pinned events looked up per query


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


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


def public_key_hex(seed: bytes) -> str:
    key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def expected_public_key(settings) -> str | None:
    """The court's public key: ``ANCILLARY_CUSTODY_PUBLIC_KEY``, else the signing key's public half."""
    if settings.custody_public_key:
        return settings.custody_public_key
    return public_key_hex(settings.custody_signing_key) if settings.custody_signing_key else None


def _signed_line(snapshot: bytes, hashes: list[bytes], events: int, number: int, previous: str | None,
                 seed: bytes, now: datetime) -> tuple[dict, str]:
    """The signed payload over the leaves ``snapshot`` (its SHA-256) and ``hashes`` (the root), and its log line."""
    payload = {
        "number": number, "made_at": now.isoformat(), "tree_size": len(hashes), "events": events,
        "root": merkle_root(hashes).hex(),
        "leaves": {"name": leaves_name(number), "sha256": hashlib.sha256(snapshot).hexdigest()},
        "key": public_key_hex(seed),
        "prev": hashlib.sha256(previous.encode()).hexdigest() if previous else None,
    }
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(_canonical(payload))
    line = json.dumps({"payload": payload, "signature": signature.hex()}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return payload, line


def make_checkpoint(session: Session, sinks: list[Sink], seed: bytes, *, now: datetime) -> tuple[dict, dict]:
    """Sign the current chain heads and keep the checkpoint in every place.

    The heads are read incrementally (``checkpoint_tree``): only the chains that moved since
    this process's last checkpoint. The first place (the local folder) numbers the
    checkpoints and must take it; another place that fails is returned as ``{place: why}``
    and caught up by the next sweep.
    """
    primary, others = sinks[0], sinks[1:]
    previous = primary.last_line()
    number = number_of(previous) + 1 if previous else 1
    place = str(getattr(primary, "folder", primary.name))
    tree = current_tree(session, place, previous)
    snapshot, hashes = tree.ordered()
    payload, line = _signed_line(snapshot, hashes, tree.events, number, previous, seed, now)
    primary.write_leaves(leaves_name(number), snapshot)
    primary.append(number, line)
    remember(place, tree, line)
    failures = {}
    for sink in others:
        try:
            sink.write_leaves(leaves_name(number), snapshot)
            sink.append(number, line)
        except Exception as exc:  # noqa: BLE001 - the local copy stands; the next sweep copies it
            log.warning("checkpoint %s not copied to %s: %s", number, sink.name, exc)
            failures[sink.name] = str(exc) or exc.__class__.__name__
    return payload, failures


@dataclass
class CheckpointFinding:
    dossier_id: int | None
    seq: int | None
    reason: str  # chain_rewritten, chain_deleted, chain_truncated, checkpoint_*
    source: str | None = None  # which copy of the checkpoints: local, object_store
    checkpoint: int | None = None  # the checkpoint's number
    detail: str | None = None

    def as_dict(self) -> dict:
        found = {"id": None, "dossier_id": self.dossier_id, "seq": self.seq, "reason": self.reason}
        found.update({name: value for name in ("source", "checkpoint", "detail")
                      if (value := getattr(self, name)) is not None})
        return found


def signed_payload(line: str, public_hex: str) -> tuple[dict | None, str | None]:
    """The line's payload if the court's key signed it, else None and the reason."""
    try:
        record = json.loads(line)
        payload, signature = record["payload"], bytes.fromhex(record["signature"])
        signer = payload["key"]
        message = _canonical(payload)
    except (ValueError, KeyError, TypeError):
        return None, "checkpoint_signature_invalid"
    if signer != public_hex:
        return payload, "checkpoint_wrong_key"
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, message)
    except (ValueError, InvalidSignature):
        return None, "checkpoint_signature_invalid"
    return payload, None


def _load_latest(sink: Sink, public_hex: str) -> tuple[dict | None, list | None, CheckpointFinding | None]:
    line = sink.last_line()
    if line is None:
        return None, None, None
    payload, refused = signed_payload(line, public_hex)
    if refused == "checkpoint_wrong_key":
        detail = f"signed by key {str(payload['key'])[:16]}…, not the court's key {public_hex[:16]}…"
        number = payload.get("number") if isinstance(payload.get("number"), int) else None
        return None, None, CheckpointFinding(None, None, refused, sink.name, number, detail)
    if refused:
        return None, None, CheckpointFinding(None, None, refused, sink.name)
    found = partial(CheckpointFinding, None, None, source=sink.name, checkpoint=payload["number"])
    snapshot = sink.read_leaves(payload["leaves"]["name"])
    if snapshot is None or hashlib.sha256(snapshot).hexdigest() != payload["leaves"]["sha256"]:
        return payload, None, found("checkpoint_leaves_missing")
    leaves = json.loads(snapshot)
    if merkle_root([leaf_hash(*leaf) for leaf in leaves]).hex() != payload["root"]:
        return payload, None, found("checkpoint_leaves_altered")
    return payload, leaves, None


def latest_checkpoint(sinks: list[Sink], public_hex: str) -> tuple[dict | None, list | None, CheckpointFinding | None]:
    """The latest checkpoint every place agrees on, with its leaves; or the first copy that is
    refused, missing (a place behind the newest) or different (same number, other content)."""
    loaded = []
    for sink in sinks:
        payload, leaves, finding = _load_latest(sink, public_hex)
        if finding:
            return payload, None, finding
        loaded.append((sink, payload, leaves))
    present = [entry for entry in loaded if entry[1] is not None]
    if not present:
        return None, None, None
    _, newest, leaves = max(present, key=lambda entry: entry[1]["number"])
    for sink, payload, _ in loaded:
        if payload is None or payload["number"] < newest["number"]:
            return newest, None, CheckpointFinding(None, None, "checkpoint_missing", sink.name, newest["number"])
        if payload != newest:
            return newest, None, CheckpointFinding(None, None, "checkpoint_copies_disagree", sink.name,
                                                   newest["number"])
    return newest, leaves, None


def check_against_latest(session: Session, sinks: list[Sink], public_hex: str
                         ) -> tuple[dict | None, CheckpointFinding | None]:
    """Every chain the latest checkpoint pinned must still hold its pinned event, unchanged.

    An event's hash covers every earlier one, so the pinned (seq, hash) still being there
    means the whole prefix is as it was; verify_chains checks the links after it.
    """
    payload, leaves, finding = latest_checkpoint(sinks, public_hex)
    if finding or payload is None:
        return payload, finding
    for start in range(0, len(leaves), PINNED_BATCH):
        batch = leaves[start:start + PINNED_BATCH]
        held = dict(((d, s), h) for d, s, h in session.execute(
            select(CustodyEvent.dossier_id, CustodyEvent.seq, CustodyEvent.hash)
            .where(tuple_(CustodyEvent.dossier_id, CustodyEvent.seq).in_([(d, s) for d, s, _ in batch]))))
        for dossier_id, seq, head_hash in batch:
            if (dossier_id, seq) not in held:
                left = session.scalar(select(func.count()).select_from(CustodyEvent)
                                      .where(CustodyEvent.dossier_id == dossier_id))
                return payload, CheckpointFinding(dossier_id, seq, "chain_truncated" if left else "chain_deleted")
            if held[(dossier_id, seq)] != head_hash:
                return payload, CheckpointFinding(dossier_id, seq, "chain_rewritten")
    return payload, None


def is_due(sink: Sink, now: datetime, minutes: int) -> bool:
    line = sink.last_line()
    if line is None:
        return True
    made_at = datetime.fromisoformat(json.loads(line)["payload"]["made_at"])
    return now - made_at >= timedelta(minutes=minutes) - timedelta(seconds=30)


def catch_up(sinks: list[Sink], public_hex: str) -> dict:
    """Copy to the other places the checkpoints the local folder holds and they lack."""
    done = {}
    for sink in sinks[1:]:
        try:
            copied = mirror(sinks[0], sink, accept=lambda line: signed_payload(line, public_hex)[1] is None)
        except Exception as exc:  # noqa: BLE001 - the store may be away; the next sweep tries again
            log.warning("checkpoints not copied to %s: %s", sink.name, exc)
            done[f"{sink.name}_failed"] = str(exc) or exc.__class__.__name__
            continue
        if copied:
            done[f"copied_to_{sink.name}"] = copied
    return done


def sweep(session: Session, now: datetime, settings) -> dict:
    """The scheduler's job: a signed checkpoint when the last is older than the interval, kept in
    every place; a place that missed one (the object store was away) is caught up first."""
    seed = settings.custody_signing_key
    if seed is None:
        return {"unsigned": "no ANCILLARY_CUSTODY_SIGNING_KEY"}
    sinks = sinks_for(settings)
    result = catch_up(sinks, public_key_hex(seed))
    if not is_due(sinks[0], now, settings.custody_checkpoint_minutes):
        return result
    payload, failures = make_checkpoint(session, sinks, seed, now=now)
    result.update(checkpoint=payload["number"], chains=payload["tree_size"], events=payload["events"])
    result.update({f"{place}_failed": why for place, why in failures.items()})
    return result


def _log_finding(sinks: list[Sink], payload: dict | None) -> CheckpointFinding | None:
    """The local log walked along its prev links back from the newest (signed) line."""
    local = next((sink for sink in sinks if sink.name == LOCAL), None)
    if payload is None or local is None:
        return None
    number = first_broken_link(local.lines())
    return CheckpointFinding(None, None, "checkpoint_log_broken", LOCAL, number) if number else None


@dataclass
class FullVerification:
    ok: bool
    events_checked: int
    first_bad_event: dict | None
    checkpoint: dict | None  # the latest checkpoint's payload, when there is one
    public_key: str | None = None  # the key checkpoints were checked with; None: not checked


def verify_all(session: Session, settings, *, public_key: str | None = None, places: tuple[str, ...] | None = None,
               progress=None, every: int = 100_000, workers: int | None = None) -> FullVerification:
    """The chains against the latest signed checkpoint, then link by link, then holders.

    ``public_key`` (hex) is all it needs of the key pair; by default the settings' key.
    ``places`` narrows where checkpoints are read (``local``, ``object_store``).
    ``workers``: dossier ranges walked at once (default ``custody_verify_workers``, else one per
    core).
    """
    payload, public_key = None, public_key or expected_public_key(settings)
    if public_key is not None:
        payload, finding = check_against_latest(session, sinks_for(settings, places), public_key)
        finding = finding or _log_finding(sinks_for(settings, places), payload)
        if finding:
            return FullVerification(False, 0, finding.as_dict(), payload, public_key)
    result = verify_chains(session, progress=progress, every=every, holders=True,
                           workers=workers or settings.custody_verify_workers or None)
    if not result.ok:
        return FullVerification(False, result.events_checked, result.first_bad_event.as_dict(), payload, public_key)
    return FullVerification(True, result.events_checked, None, payload, public_key)
