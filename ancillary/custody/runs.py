"""Several custody events on one dossier at once: one lock and one flush for the run.

The events, the chain's head and the dossier come out exactly as ``append_event`` one
after another gives them (the suite compares them): the archive post's count, bind,
digitise and shelve of a volume are four links recorded in one go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import User
from ancillary.cases.models import Dossier
from ancillary.custody.models import GENESIS, CustodyAction, CustodyEvent, event_digest
from ancillary.custody.services import advance_head, append_event, lock_head

Link = tuple[CustodyAction, str | None, dict[str, Any] | None]  # action, location, details


def append_run(session: Session, dossier: Dossier, links: list[Link], *, actor: User, now: datetime,
               to_holder_id: int | None) -> list[CustodyEvent]:
    """Append ``links`` to ``dossier``'s chain at ``now``, each handing it to ``to_holder_id``."""
    head = lock_head(session, dossier)
    if head is not None and now < head.last_at:  # placed by its time among later events: one by one
        return [append_event(session, dossier, action=action, actor=actor, now=now, to_holder_id=to_holder_id,
                             location=location, details=details) for action, location, details in links]
    seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS)
    events = []
    for action, location, details in links:
        seq += 1
        event = CustodyEvent(
            dossier_id=dossier.id, seq=seq, action=action, from_holder_id=dossier.holder_id,
            to_holder_id=to_holder_id, location=location, device_at=None, server_at=now, actor_id=actor.id,
            client_scan_id=None, details=details, conflict=False, prev_hash=prev)
        event.hash = prev = event_digest(event.content(), prev)
        session.add(event)
        dossier.holder_id, dossier.location = to_holder_id, location
        events.append(event)
    advance_head(session, dossier, head, seq, prev, now)
    session.flush()  # the audit entries name the events' ids
    for event in events:
        record(session, actor, f"custody.{event.action.value}", event, now=now, case_id=dossier.case_id,
               after={"dossier_id": dossier.id, "seq": event.seq, "to_holder_id": to_holder_id,
                      "location": event.location, "conflict": False})
    return events
