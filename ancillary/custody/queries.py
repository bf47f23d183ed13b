"""Read side of custody for the management office's audit: a dossier's chain as a timeline
with names, the first bad event in words, dossiers idle or still with the contractor after
closing, holders that disagree with their chain, and the access log with names.

Who may read these is decided by the views (court_admin only); nothing here reads party
data beyond the case number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ancillary.audit.models import AccessLogEntry
from ancillary.auth.models import CONTRACTOR_ROLES, Role, User
from ancillary.cases.models import Case, CaseStatus, Dossier
from ancillary.custody.models import CustodyAction, CustodyEvent, CustodyHead
from ancillary.custody.services import SCAN_ACTIONS, Verification, chain, verify_chains
from ancillary.display_names import N_, label

ACTION_LABELS = {
    CustodyAction.receive: N_("signed for"), CustodyAction.store: N_("put into storage"),
    CustodyAction.count: N_("materials counted"), CustodyAction.bind: N_("volume bound"),
    CustodyAction.digitise: N_("scanned into the archive"), CustodyAction.archive: N_("archived on the shelf"),
}
REASONS = {
    "missing_event": N_("an event is missing before it"), "sequence_broken": N_("it is out of sequence"),
    "broken_link": N_("its link to the event before it is broken"),
    "content_altered": N_("its content was altered after it was recorded"),
    "chain_truncated": N_("events after it were deleted"), "head_mismatch": N_("the chain's last link was changed"),
    "chain_rewritten": N_("its chain was rewritten since the last signed checkpoint"),
    "chain_deleted": N_("its whole chain was deleted since the last signed checkpoint"),
    "holder_mismatch": N_("its holder or location does not match the last event of its chain"),
    "checkpoint_signature_invalid": N_("its latest checkpoint's signature does not verify"),
    "checkpoint_wrong_key": N_("its latest checkpoint was signed by another key than the court's"),
    "checkpoint_leaves_missing": N_("the chain heads saved with its latest checkpoint are missing or changed"),
    "checkpoint_leaves_altered": N_("the chain heads saved with its latest checkpoint do not match its signed root"),
    "checkpoint_missing": N_("it lacks the latest checkpoint that the other copy holds"),
    "checkpoint_copies_disagree": N_("its latest checkpoint differs from the other copy's"),
    "checkpoint_log_broken": N_("an earlier line of the log was edited, removed or reordered: this checkpoint's "
                                "link to the one before it does not hold"),
}
PLACES = {"local": N_("The checkpoint log in the local folder"),
          "object_store": N_("The checkpoints in the object store")}


def names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def timeline(session: Session, dossier: Dossier, tz) -> list[dict]:
    """The dossier's events in the order they happened, as people read them."""
    events = chain(session, dossier)
    who = names(session, [e.actor_id for e in events] + [e.to_holder_id for e in events]
                + [e.from_holder_id for e in events])
    return [{
        "id": e.id, "seq": e.seq, "action": e.action.value, "what": gettext(ACTION_LABELS[e.action]),
        "who": who.get(e.actor_id, ""), "holder": who.get(e.to_holder_id, ""),
        "from_holder": who.get(e.from_holder_id, ""), "where": e.location or "",
        "at": e.effective_at.astimezone(tz), "offline": e.device_at is not None,
        # A receive or store is a scan of the label (scanner or photo) unless the code under a torn
        # label was typed, which the event records; the archivist's steps are entered at the desk.
        "typed": (e.details or {}).get("entry") == "typed",
        "by_scan": e.action in SCAN_ACTIONS and (e.details or {}).get("entry") != "typed",
    } for e in events]


def describe_bad(session: Session, verification: Verification, tz) -> str | None:
    """The first bad event in a sentence: which dossier, which event, what is wrong."""
    bad = verification.first_bad_event
    return describe_finding(session, bad.as_dict(), tz) if bad is not None else None


def describe_finding(session: Session, bad: dict | None, tz) -> str | None:
    """A verification finding (``{id, dossier_id, seq, reason}``) in a sentence."""
    if bad is None:
        return None
    reason = gettext(REASONS.get(bad["reason"], bad["reason"]))
    if bad["dossier_id"] is None:
        place = gettext(PLACES[bad["source"]]) if bad.get("source") in PLACES else gettext("The checkpoint log")
        number = gettext(" (checkpoint {number})").format(number=bad["checkpoint"]) if bad.get("checkpoint") else ""
        return gettext("{place}{number}: {reason}.").format(place=place, number=number, reason=reason)
    dossier = session.get(Dossier, bad["dossier_id"])
    code = dossier.code if dossier else bad["dossier_id"]
    event = session.get(CustodyEvent, bad["id"]) if bad["id"] else None
    if event is not None:
        who = names(session, [event.actor_id]).get(event.actor_id, "")
        return gettext("Dossier {code}, event {seq} ({what} by {who}, {at}): {reason}.").format(
            code=code, seq=bad["seq"], what=gettext(ACTION_LABELS[event.action]),
            who=who, at=event.effective_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), reason=reason)
    if bad["seq"] is None:
        return gettext("Dossier {code}: {reason}.").format(code=code, reason=reason)
    return gettext("Dossier {code}, event {seq}: {reason}.").format(code=code, seq=bad["seq"], reason=reason)


def verify_all(session: Session, progress=None) -> Verification:
    return verify_chains(session, progress=progress)


def _rows(session: Session, query, limit: int) -> list[dict]:
    holder = aliased(User)
    query = (query.add_columns(Case.number, holder.display_name.label("holder_name"), Case.status)
             .outerjoin(holder, holder.id == Dossier.holder_id).order_by(Dossier.id).limit(limit))
    return [{"id": r.Dossier.id, "code": r.Dossier.code, "case_number": r.number, "holder": r.holder_name or "",
             "location": r.Dossier.location or "", "case_status": label(r.status.value),
             "last_moved_at": getattr(r, "last_at", None)} for r in session.execute(query)]


def idle(session: Session, days: int, now: datetime, limit: int = 200) -> list[dict]:
    """Dossiers of cases not yet archived that nobody has scanned for more than ``days`` days."""
    moved = func.coalesce(CustodyHead.last_at, Dossier.created_at)
    query = (select(Dossier, moved.label("last_at")).join(Case, Case.id == Dossier.case_id)
             .outerjoin(CustodyHead, CustodyHead.dossier_id == Dossier.id)
             .where(moved <= now - timedelta(days=days), Case.status != CaseStatus.archived))
    return _rows(session, query, limit)


def closed_with_contractor(session: Session, limit: int = 200) -> list[dict]:
    """Closed cases whose files a contractor worker other than the archive still holds."""
    staff = select(User.id).where(User.role.in_(sorted(CONTRACTOR_ROLES - {Role.archivist})))
    query = (select(Dossier).join(Case, Case.id == Dossier.case_id)
             .where(Case.status == CaseStatus.closed, Dossier.holder_id.in_(staff)))
    return _rows(session, query, limit)


def holder_mismatch(session: Session, limit: int = 200) -> list[dict]:
    """Dossiers whose recorded holder is not who their chain's last event hands them to."""
    last = aliased(CustodyEvent)
    query = (select(Dossier).join(Case, Case.id == Dossier.case_id)
             .outerjoin(CustodyHead, CustodyHead.dossier_id == Dossier.id)
             .outerjoin(last, (last.dossier_id == Dossier.id) & (last.seq == CustodyHead.seq))
             .where(func.coalesce(last.to_holder_id, -1) != func.coalesce(Dossier.holder_id, -1)))
    rows = _rows(session, query.add_columns(last.to_holder_id.label("chain_holder_id")), limit)
    return rows


def access_log(session: Session, *, user_id: int | None = None, case_number: str | None = None,
               limit: int = 100) -> list[dict]:
    """Reads of party data, newest first, with the reader's name and the case number."""
    query = (select(AccessLogEntry, User.display_name, User.role, Case.number)
             .join(User, User.id == AccessLogEntry.user_id).join(Case, Case.id == AccessLogEntry.case_id))
    if user_id is not None:
        query = query.where(AccessLogEntry.user_id == user_id)
    if case_number:
        query = query.where(Case.number == case_number.strip())
    rows = session.execute(query.order_by(AccessLogEntry.id.desc()).limit(limit)).all()
    return [{"at": entry.at, "who": name, "role": label(role.value), "case_number": number,
             "parties": len(entry.party_ids or []), "purpose": entry.purpose} for entry, name, role, number in rows]


def readers(session: Session) -> list[tuple[int, str]]:
    """People who have read party data, for the access log's filter."""
    return list(session.execute(select(User.id, User.display_name)
                                .where(User.id.in_(select(AccessLogEntry.user_id).distinct()))
                                .order_by(User.display_name)).all())
