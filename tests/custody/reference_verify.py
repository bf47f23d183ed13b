"""The verifier as it was before the fast one: ORM-typed rows and the model's digest.

Kept as the reference the fast verifier must agree with, event for event.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.custody.models import GENESIS, CustodyEvent, CustodyHead, event_content, event_digest
from ancillary.custody.verify import BadEvent, Verification

_COLUMNS = (
    CustodyEvent.id, CustodyEvent.dossier_id, CustodyEvent.seq, CustodyEvent.action, CustodyEvent.from_holder_id,
    CustodyEvent.to_holder_id, CustodyEvent.location, CustodyEvent.device_at, CustodyEvent.server_at,
    CustodyEvent.actor_id, CustodyEvent.client_scan_id, CustodyEvent.details, CustodyEvent.conflict,
    CustodyEvent.prev_hash, CustodyEvent.hash,
)


def _check_row(row, expected_seq: int, prev_hash: str) -> str | None:
    if row.seq != expected_seq:
        return "missing_event" if row.seq > expected_seq else "sequence_broken"
    if row.prev_hash != prev_hash:
        return "broken_link"
    content = event_content(
        dossier_id=row.dossier_id, seq=row.seq, action=row.action, from_holder_id=row.from_holder_id,
        to_holder_id=row.to_holder_id, location=row.location, device_at=row.device_at, server_at=row.server_at,
        actor_id=row.actor_id, client_scan_id=row.client_scan_id, details=row.details, conflict=row.conflict,
    )
    if event_digest(content, prev_hash) != row.hash:
        return "content_altered"
    return None


def verify_chains(session: Session, dossier_id: int | None = None, *, batch: int = 5000,
                  progress=None) -> Verification:
    """Walk every chain (or one dossier's) in order, streaming; stop at the first bad event.

    Rows come through a server-side cursor in batches, joined with each dossier's
    head, so memory stays flat however long the log is.
    """
    query = (
        select(*_COLUMNS, CustodyHead.seq.label("head_seq"), CustodyHead.hash.label("head_hash"))
        .outerjoin(CustodyHead, CustodyHead.dossier_id == CustodyEvent.dossier_id)
        .order_by(CustodyEvent.dossier_id, CustodyEvent.seq)
    )
    if dossier_id is not None:
        query = query.where(CustodyEvent.dossier_id == dossier_id)
    checked = 0
    current = None  # (dossier_id, last_seq, last_hash, head_seq, head_hash)
    expected_seq, prev_hash = 1, GENESIS

    def close_chain(state) -> BadEvent | None:
        d_id, last_seq, last_hash, head_seq, head_hash = state
        if head_seq is None or head_seq != last_seq or head_hash != last_hash:
            return BadEvent(None, d_id, last_seq + 1 if head_seq and head_seq > last_seq else last_seq,
                            "chain_truncated" if head_seq and head_seq > last_seq else "head_mismatch")
        return None

    result = session.execute(query.execution_options(stream_results=True, yield_per=batch))
    try:
        for row in result:
            if current is None or row.dossier_id != current[0]:
                if current is not None and (bad := close_chain(current)):
                    return Verification(False, checked, bad)
                expected_seq, prev_hash = 1, GENESIS
            checked += 1
            reason = _check_row(row, expected_seq, prev_hash)
            if reason:
                return Verification(False, checked, BadEvent(row.id, row.dossier_id, row.seq, reason))
            expected_seq, prev_hash = row.seq + 1, row.hash
            current = (row.dossier_id, row.seq, row.hash, row.head_seq, row.head_hash)
            if progress and checked % 100_000 == 0:
                progress(checked)
    finally:
        result.close()
    if current is not None and (bad := close_chain(current)):
        return Verification(False, checked, bad)
    # A head whose every event is gone.
    orphan = select(CustodyHead.dossier_id, CustodyHead.seq).where(
        ~select(CustodyEvent.id).where(CustodyEvent.dossier_id == CustodyHead.dossier_id).exists()
    )
    if dossier_id is not None:
        orphan = orphan.where(CustodyHead.dossier_id == dossier_id)
    row = session.execute(orphan.limit(1)).first()
    if row is not None:
        return Verification(False, checked, BadEvent(None, row.dossier_id, 1, "chain_truncated"))
    return Verification(True, checked, None)


