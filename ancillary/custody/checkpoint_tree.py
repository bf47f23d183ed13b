"""The chain heads a checkpoint signs, read incrementally: only the chains that moved since the last one.

Chains are append-only, so between two checkpoints only the dossiers with a new event
have a new head. The process that made the last checkpoint keeps its leaves (and their
leaf hashes) in memory with the highest event id it had seen; the next checkpoint reads
the heads of the dossiers with a later event and the count of those events, and the
Merkle root is again taken over every leaf. The signed checkpoint is the same as a full
read would give: same leaves, same root, same format, and ``custody verify`` is unchanged.

A full read is made when this process has no leaves for the log's last line (a restart,
another process signed the last one) and every ``FULL_EVERY`` checkpoints: on
PostgreSQL an event whose transaction commits after the read with an id below the
watermark is picked up there (until then the checkpoint pins that chain's previous
head, which is still true: chains only grow).
"""

from __future__ import annotations

import hashlib
import json
from bisect import insort
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ancillary.custody.models import CustodyEvent, CustodyHead

FULL_EVERY = 24  # checkpoints between two full reads of every head
MOVED_BATCH = 500  # dossiers whose heads are read per query


def leaf_hash(dossier_id: int, seq: int, head_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{dossier_id}:{seq}:{head_hash}".encode()).digest()


@dataclass
class Tree:
    """The leaves of the last checkpoint this process signed, and what it had seen then.

    Each leaf keeps its hash and its text in the snapshot (``[dossier_id,seq,"hash"]``, the
    canonical JSON of the list), made when the leaf changes: a checkpoint joins them in dossier
    order instead of hashing and writing out every chain again.
    """

    line_sha: str | None = None  # SHA-256 of the log line it signed
    watermark: int = 0  # the highest event id it had read
    events: int = 0
    since_full: int = 0
    leaves: dict[int, tuple[int, str]] = field(default_factory=dict)
    hashes: dict[int, bytes] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)  # the dossiers with a chain, ascending

    def ordered(self) -> tuple[bytes, list[bytes]]:
        """The leaves snapshot (canonical JSON, as ``checkpoints._canonical`` writes the list) and the leaf hashes."""
        texts, hashes = self.texts, self.hashes
        return f"[{','.join([texts[d] for d in self.ids])}]".encode(), [hashes[d] for d in self.ids]

    def put(self, dossier_id: int, seq: int, head_hash: str) -> None:
        known = self.leaves.get(dossier_id)
        if known != (seq, head_hash):
            if known is None:
                insort(self.ids, dossier_id)  # new dossiers come last, at the end of the list
            self.leaves[dossier_id] = (seq, head_hash)
            self.hashes[dossier_id] = leaf_hash(dossier_id, seq, head_hash)
            self.texts[dossier_id] = json.dumps([dossier_id, seq, head_hash], separators=(",", ":"),
                                                ensure_ascii=False)


_TREES: dict[str, Tree] = {}  # per checkpoint folder


def line_digest(line: str | None) -> str | None:
    return hashlib.sha256(line.encode()).hexdigest() if line is not None else None


def _full(session: Session) -> Tree:
    tree = Tree(watermark=session.scalar(select(func.max(CustodyEvent.id))) or 0)
    tree.events = session.scalar(select(func.count()).select_from(CustodyEvent)
                                 .where(CustodyEvent.id <= tree.watermark)) or 0
    for dossier_id, seq, head_hash in session.execute(select(CustodyHead.dossier_id, CustodyHead.seq,
                                                             CustodyHead.hash)):
        tree.put(dossier_id, seq, head_hash)
    return tree


def _catch_up(session: Session, tree: Tree) -> bool:
    """Read the heads of the chains with an event after the watermark; count those events.
    False when events the tree had seen are gone (another database behind the same folder)."""
    top = session.scalar(select(func.max(CustodyEvent.id))) or 0
    if top <= tree.watermark:
        return top == tree.watermark
    newer = (CustodyEvent.id > tree.watermark, CustodyEvent.id <= top)
    tree.events += session.scalar(select(func.count()).select_from(CustodyEvent).where(*newer)) or 0
    moved = sorted(session.scalars(select(CustodyEvent.dossier_id).where(*newer).distinct()))
    for start in range(0, len(moved), MOVED_BATCH):
        for dossier_id, seq, head_hash in session.execute(
                select(CustodyHead.dossier_id, CustodyHead.seq, CustodyHead.hash)
                .where(CustodyHead.dossier_id.in_(moved[start:start + MOVED_BATCH]))):
            tree.put(dossier_id, seq, head_hash)
    tree.watermark = top
    return True


def current_tree(session: Session, place: str, previous_line: str | None) -> Tree:
    """The heads now: from this process's leaves of ``previous_line`` plus what moved, or read in full."""
    tree = _TREES.get(place)
    fresh = tree is None or tree.line_sha != line_digest(previous_line) or tree.since_full >= FULL_EVERY
    if fresh or not _catch_up(session, tree):
        tree = _full(session)
    else:
        tree.since_full += 1
    _TREES.pop(place, None)  # kept again only once the checkpoint is written (``remember``)
    return tree


def remember(place: str, tree: Tree, line: str) -> None:
    tree.line_sha = line_digest(line)
    _TREES[place] = tree


def forget(place: str | None = None) -> None:
    """Drop the kept leaves (of one folder, or all): the next checkpoint reads every head."""
    if place is None:
        _TREES.clear()
    else:
        _TREES.pop(place, None)
