"""Scans and custody events: append to a dossier's chain, replay, verify.

Appending takes the dossier's row lock (``FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), so two scans of one dossier get
consecutive ``seq`` numbers; the chain's head comes with the lock, from the dossier's
row. A replayed scan (same user, same ``client_scan_id``) answers the stored event:
found by the locking read, or, when two copies race, by the event's insert that the
unique constraint on (actor_id, client_scan_id) turns into nothing, and a second look.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import Role, User
from ancillary.cases.models import Case, CaseStatus, Dossier
from ancillary.custody import scan_once, scan_sql
from ancillary.custody.models import (
    GENESIS,
    CustodyAction,
    CustodyEvent,
    CustodyHead,
    event_content,
    event_digest,
)
from ancillary.custody.verify import BadEvent, Verification, verify_chains  # noqa: F401 - the service's verify
from ancillary.db import get_or_404
from ancillary.display_names import N_
from ancillary.errors import Conflict, Forbidden, Invalid, NotFound

# Posts that handle paper files, and may scan any dossier.
HANDLER_ROLES = frozenset({Role.intake_clerk, Role.file_clerk, Role.archivist})
# Officers sign for the dossiers of their own cases.
OFFICER_ROLES = frozenset({Role.judge, Role.enforcement_officer})
SCAN_ROLES = HANDLER_ROLES | OFFICER_ROLES
# Who reads every dossier's chain (no party data is in it), and who only their own cases'.
CHAIN_READERS = HANDLER_ROLES | {Role.court_admin}
SCAN_ACTIONS = (CustodyAction.receive, CustodyAction.store)
EVENTS_TABLE = CustodyEvent.__tablename__  # the audit entry's object type for an event
# How far a device clock may run ahead of the server, and how old an offline scan may be.
DEVICE_CLOCK_SKEW = timedelta(minutes=5)
OFFLINE_MAX_AGE = timedelta(days=30)


@dataclass
class ScanResult:
    """A replay carries the stored event; a new scan what it wrote, as plain values."""

    replayed: bool
    event: CustodyEvent | None = None
    recorded: Recorded | None = None


@dataclass
class Recorded:
    dossier_id: int
    code: str
    case_number: str
    volume: int
    action: CustodyAction
    holder: tuple[int, str, str] | None  # id, username, display name of whom the event hands it to
    location: str | None
    seq: int
    hash: str
    conflict: bool
    device_at: datetime | None
    server_at: datetime
    typed: bool


def token_to_code(keyring, raw: str) -> str:
    """The dossier code in a scanned label, or Invalid (422) saying why not."""
    from scanners.tokens import TOKEN_RE, TokenError, verify
    from scanners.wedge import clean_scanned_text, token_candidates

    # A scanner in the wrong keyboard layout can garble a label into more than one
    # well-formed token (German Y/Z): the first repair whose signature holds wins. The
    # repairs are made one at a time, so a label read as printed costs one.
    if TOKEN_RE.match(raw or "") and raw[-1] != "\n":
        # Already a clean token (what a camera or a well-set scanner sends): it is its own
        # first candidate, so its signature is checked first, without cleaning or repairing.
        with contextlib.suppress(TokenError):
            return verify(keyring, raw)
    first_error = None
    for _, text in token_candidates(raw or ""):
        try:
            return verify(keyring, text)
        except TokenError as exc:
            first_error = first_error or exc
    if first_error is None and not clean_scanned_text(raw or ""):
        raise Invalid("empty_code", "the scanned code is empty", field="code")
    try:
        raise first_error or TokenError("malformed", "not a dossier label of this court")
    except TokenError as exc:
        if exc.reason == "malformed":
            raise Invalid("not_a_label", "this is not a dossier label of this court", field="code") from None
        if exc.reason == "unknown_key":
            raise Invalid("unknown_key", "the label was signed with a key this court does not know: forged or "
                          "withdrawn", field="code") from None
        raise Invalid("forged_label", "the label's signature does not match: forged or altered",
                      field="code") from None


TYPED_CODE_RE = re.compile(r"^DS\d{7}-\d{2}$")


def typed_code(raw: str) -> str:
    """The dossier code a person typed from under a torn label's QR (DS0000123-01), or Invalid."""
    from scanners.wedge import clean_scanned_text

    code = re.sub(r"\s+", "", clean_scanned_text(raw or "")).upper()
    if not TYPED_CODE_RE.match(code):
        raise Invalid("not_a_dossier_code", "type the code printed under the QR code, like DS0000123-01",
                      field="code")
    return code


def dossier_to_read(session: Session, keyring, code: str, *, typed: bool) -> Dossier:
    """The dossier a scanned label or a typed code names (the label's signature checked)."""
    return dossier_by_code(session, typed_code(code) if typed else token_to_code(keyring, code))


def dossier_by_code(session: Session, code: str) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None:
        raise NotFound("unknown_dossier", "no dossier with code {dossier_code}", field="code", dossier_code=code)
    return dossier


def get_dossier(session: Session, dossier_id: int) -> Dossier:
    return get_or_404(session, Dossier, dossier_id, code="dossier_not_found",
                      message=N_("there is no such dossier: scan its label or look it up by its code"),
                      field="dossier_id")


def check_chain_reader(user: User, case: Case) -> None:
    """Need-to-know for custody chains: file posts and the office see all, officers their own."""
    if user.role in CHAIN_READERS:
        return
    if user.role in OFFICER_ROLES and case.judge_id == user.id:
        return
    if user.role in OFFICER_ROLES:
        raise Forbidden("not_your_case", "this case is not assigned to you")
    raise Forbidden("no_custody_access", "the {role} role sees no custody chains", role=user.role.value)


def check_scanner(user: User, case: Case) -> None:
    """May ``user`` scan a dossier of ``case`` (anything with the case's ``judge_id``)?"""
    if user.role in HANDLER_ROLES:
        return
    if user.role in OFFICER_ROLES:
        if case.judge_id == user.id:
            return
        raise Forbidden("not_your_case", "this case is not assigned to you")
    raise Forbidden("role_not_allowed", "the {role} role may not do this", role=user.role.value)


def lock_head(session: Session, dossier: Dossier) -> CustodyHead | None:
    """Lock ``dossier``'s row (one writer per chain) and read its chain's head afresh."""
    session.execute(select(Dossier.id).where(Dossier.id == dossier.id).with_for_update())
    return session.get(CustodyHead, dossier.id, populate_existing=True)


def advance_head(session: Session, dossier: Dossier, head: CustodyHead | None, seq: int, digest: str,
                 at: datetime) -> CustodyHead:
    """Move the chain's head (made with its first event) to ``seq``, and the dossier's copy of it."""
    if head is None:
        head = CustodyHead(dossier_id=dossier.id, seq=seq, hash=digest, last_at=at)
        session.add(head)
    else:
        head.seq, head.hash, head.last_at = seq, digest, max(head.last_at, at)
    dossier.head_seq, dossier.head_hash, dossier.head_last_at = head.seq, head.hash, head.last_at
    return head


def _as_replay(event: CustodyEvent, dossier_id: int, action: CustodyAction) -> ScanResult:
    if event.dossier_id != dossier_id or event.action != action:
        raise Conflict("scan_id_reused",
                       "this scan's id was already used for another scan: the scanner must send a new id for each scan",
                       field="client_scan_id", id=event.client_scan_id)
    return ScanResult(replayed=True, event=event)


def _replay(session: Session, built: dict, actor: User, client_scan_id: str, dossier_id: int,
            action: CustodyAction) -> ScanResult:
    """The caller's stored event with this scan id, answered as a replay (or 409 if it was another scan)."""
    event = session.execute(built["existing"], {"actor_id": actor.id, "scan_id": client_scan_id}).scalar_one()
    return _as_replay(event, dossier_id, action)


def _holder_at(session: Session, dossier_id: int, at: datetime) -> tuple[int | None, str | None, CustodyEvent | None]:
    """Holder and location per the chain as of ``at``, and the first event after it."""
    events = sorted(session.scalars(select(CustodyEvent).where(CustodyEvent.dossier_id == dossier_id)),
                    key=lambda e: (e.effective_at, e.seq))
    holder = location = None
    after = None
    for event in events:
        if event.effective_at <= at:
            holder, location = event.to_holder_id, event.location
        elif after is None:
            after = event
    return holder, location, after


def append_event(
    session: Session,
    dossier: Dossier,
    *,
    action: CustodyAction,
    actor: User,
    now: datetime,
    to_holder_id: int | None,
    location: str | None,
    device_at: datetime | None = None,
    client_scan_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Append one event to ``dossier``'s chain and move its holder and location.

    A late event (an offline scan whose device time is before the chain's latest
    event) is placed in time by its device time: it does not move the dossier's
    current holder, and it is flagged ``conflict`` when the history after it
    disagrees (custody moved on from someone else than it says).
    """
    head = lock_head(session, dossier)
    seq = head.seq + 1 if head else 1
    prev_hash = head.hash if head else GENESIS
    effective_at = device_at or now
    late = head is not None and effective_at < head.last_at
    from_holder_id = dossier.holder_id
    conflict = False
    if late:
        from_holder_id, _, after = _holder_at(session, dossier.id, effective_at)
        conflict = after is not None and after.action == CustodyAction.receive and after.from_holder_id != to_holder_id
    event = CustodyEvent(
        dossier_id=dossier.id, seq=seq, action=action, from_holder_id=from_holder_id, to_holder_id=to_holder_id,
        location=location, device_at=device_at, server_at=now, actor_id=actor.id, client_scan_id=client_scan_id,
        details=details, conflict=conflict, prev_hash=prev_hash,
    )
    event.hash = event_digest(event.content(), prev_hash)
    session.add(event)
    advance_head(session, dossier, head, seq, event.hash, effective_at)
    if not late:
        dossier.holder_id, dossier.location = to_holder_id, location
    session.flush()  # the event, the head and the dossier at once; the audit entry needs the event's id
    record(session, actor, f"custody.{action.value}", event, now=now, case_id=dossier.case_id,
           after={"dossier_id": dossier.id, "seq": seq, "to_holder_id": to_holder_id, "location": location,
                  "conflict": conflict})
    return event


def _scan_action(action: str, device_at: datetime | None, now: datetime) -> CustodyAction:
    """The scan's action, refused unless receive or store; a device clock that cannot be right is refused."""
    action = CustodyAction(action)
    if action not in SCAN_ACTIONS:
        raise Invalid("bad_action", "action must be receive or store", field="action")
    if device_at is not None:
        if device_at > now + DEVICE_CLOCK_SKEW:
            raise Invalid("scanned_in_future", "scanned_at lies in the future: check the device clock",
                          field="scanned_at")
        if device_at < now - OFFLINE_MAX_AGE:
            raise Invalid("scan_too_old", "scanned_at is more than 30 days ago", field="scanned_at")
    return action


def scan(
    session: Session,
    *,
    keyring,
    code: str,
    action: str,
    location: str | None,
    client_scan_id: str | None,
    device_at: datetime | None,
    actor: User,
    now: datetime,
    typed: bool = False,
) -> ScanResult:
    """Record a scan of a dossier label: ``receive`` signs for it (and clears the old storage
    location unless a new one is given), ``store`` shelves it.

    ``typed``: the person typed the code printed under a torn label's QR; it is accepted
    from those who may scan that dossier and marked so in the chain.
    """
    action = _scan_action(action, device_at, now)
    code = typed_code(code) if typed else token_to_code(keyring, code)
    built = scan_sql.statements(session)
    session.flush()  # the statements below go past the ORM: what it holds pending is written first
    row = scan_once.read(session, built, code=code, action=action, location=location, client_scan_id=client_scan_id,
                         device_at=device_at, actor=actor, now=now, typed=typed, may_scan=actor.role in SCAN_ROLES,
                         any_case=actor.role in HANDLER_ROLES)  # on PostgreSQL, the writes too if the rules allow
    if row is None:
        raise NotFound("unknown_dossier", "no dossier with code {dossier_code}", field="code", dossier_code=code)
    check_scanner(actor, row)
    if getattr(row, "event_id", None) is not None:
        return _new_scan(session, row, actor, action, row.event_to_holder_id, location, row.event_seq,
                         row.event_hash, False, device_at, now, typed)
    if row.existing_id is not None:
        return _replay(session, built, actor, client_scan_id, row.id, action)
    if row.case_status == CaseStatus.archived:
        raise Conflict("dossier_archived", "dossier {dossier_code} is archived: it no longer circulates", field="code",
                       dossier_code=row.code)
    if action == CustodyAction.store and not location:
        raise Invalid("location_required", "a store scan needs the storage location", field="location")
    # receive: out of its shelf, the old location no longer holds; store: nobody has signed
    # for it yet, so whoever shelves it answers for it
    to_holder_id = actor.id if action == CustodyAction.receive or row.holder_id is None else row.holder_id
    event = {"dossier_id": row.id, "action": action, "to_holder_id": to_holder_id, "location": location,
             "device_at": device_at, "server_at": now, "actor_id": actor.id, "client_scan_id": client_scan_id,
             "details": {"entry": "typed"} if typed else None}
    written = _write_scan(session, built, row, event)
    if written is None:  # a copy of this scan committed while we waited for the lock
        return _replay(session, built, actor, client_scan_id, row.id, action)
    return _new_scan(session, row, actor, action, to_holder_id, location, event["seq"], event["hash"],
                     event["conflict"], device_at, now, typed)


def _new_scan(session, row, actor, action, holder_id, location, seq, digest, conflict, device_at, now, typed):
    return ScanResult(replayed=False, recorded=Recorded(
        dossier_id=row.id, code=row.code, case_number=row.case_number, volume=row.volume, action=action,
        holder=_holder_ref(session, row, actor, holder_id), location=location, seq=seq, hash=digest,
        conflict=conflict, device_at=device_at, server_at=now, typed=typed))


def _holder_ref(session: Session, row, actor: User, holder_id: int) -> tuple[int, str, str]:
    if holder_id == actor.id:
        return actor.id, actor.username, actor.display_name
    if row.holder_row_id == holder_id:
        return holder_id, row.holder_username, row.holder_display_name
    user = session.get(User, holder_id)
    return user.id, user.username, user.display_name


def _write_scan(session: Session, built: dict, row, event: dict) -> int | None:
    """Write the event (completing ``event`` with its place in the chain and its hash), the
    dossier, the head and the audit entry; None, writing nothing, if the caller's scan id is
    already taken (a copy that committed while this one waited for the lock)."""
    at = event["device_at"] or event["server_at"]
    late = row.head_seq is not None and at < row.head_last_at
    event["from_holder_id"], event["conflict"] = row.holder_id, False
    if late:
        event["from_holder_id"], _, after = _holder_at(session, row.id, at)
        event["conflict"] = (after is not None and after.action == CustodyAction.receive
                             and after.from_holder_id != event["to_holder_id"])
    event["seq"], event["prev_hash"] = (row.head_seq or 0) + 1, row.head_hash or GENESIS
    event["hash"] = event_digest(event_content(**event), event["prev_hash"])
    head = {"head_seq": event["seq"], "head_hash": event["hash"],
            "head_last_at": max(row.head_last_at, at) if row.head_last_at else at}
    moved = {} if late else {"holder_id": event["to_holder_id"], "location": event["location"]}
    audit = {"at": event["server_at"], "actor_id": event["actor_id"], "action": f"custody.{event['action'].value}",
             "object_type": EVENTS_TABLE, "case_id": row.case_id,
             "after": {"dossier_id": row.id, "seq": event["seq"], "to_holder_id": event["to_holder_id"],
                       "location": event["location"], "conflict": event["conflict"]}}
    try:
        event_id = scan_sql.write(session.connection(), built, event, head, moved, audit)
    except IntegrityError as exc:
        _refuse_integrity(exc, event["client_scan_id"])
    scan_once.forget(session, row.id)
    return event_id


def _refuse_integrity(exc: IntegrityError, client_scan_id: str | None):
    # Copies of one scan of one dossier queue for its lock and find the first: only the same
    # client_scan_id sent for another dossier at the same moment, or a head out of step with
    # its chain, gets here.
    if "client_scan_id" in str(exc.orig):
        raise Conflict("scan_id_reused", "this scan's id was already used for another scan: "
                       "the scanner must send a new id for each scan",
                       field="client_scan_id", id=client_scan_id) from None
    raise Conflict("scan_conflict", "another scan of this dossier was recorded at the same moment; "
                   "scan again", field="code") from None


def chain(session: Session, dossier: Dossier) -> list[CustodyEvent]:
    """A dossier's events in the order they happened (device time for offline scans)."""
    events = session.scalars(select(CustodyEvent).where(CustodyEvent.dossier_id == dossier.id)).all()
    return sorted(events, key=lambda e: (e.effective_at, e.seq))


def recent_scans(session: Session, actor: User, limit: int = 20) -> list[CustodyEvent]:
    return list(session.scalars(
        select(CustodyEvent).where(CustodyEvent.actor_id == actor.id)
        .order_by(CustodyEvent.server_at.desc(), CustodyEvent.id.desc()).limit(limit)
    ))
