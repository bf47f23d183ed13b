"""Commands on cases: file, close, assign; each flushes and audits, none commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import Role, User
from ancillary.auth.services import normalize_phone
from ancillary.cases.identity import classify
from ancillary.cases.models import (
    Case,
    CaseKind,
    CaseStatus,
    CaseTrack,
    ContactKind,
    Dossier,
    LawFirm,
    Party,
    PartyContact,
    PartyRole,
    Person,
)
from ancillary.config import Settings
from ancillary.db import get_or_404
from ancillary.display_names import N_
from ancillary.errors import Conflict, Invalid
from ancillary.queues import services as queues
from ancillary.row_ids import assign_ids
from ancillary.scheduling.models import Courtroom
from ancillary.service.services import orders_at_filing, record_opened
from ancillary.timeutil import period_end_months
from scanners.tokens import sign

MAIN_VENUE = "main"


@dataclass
class AddressIn:
    text: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class PartyIn:
    role: str
    name: str
    id_number: str | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    addresses: list[AddressIn] = field(default_factory=list)
    law_firm_id: int | None = None


@dataclass
class CaseIn:
    number: str
    kind: str
    venue: str
    filed_at: datetime
    judge_id: int
    volumes: int = 1
    cause: str | None = None
    parties: list[PartyIn] = field(default_factory=list)


def known_venues(session: Session) -> set[str]:
    return {MAIN_VENUE, *session.scalars(select(Courtroom.venue).distinct())}


def is_known_venue(session: Session, venue: str) -> bool:
    """``venue in known_venues(session)``, with no read for the main court (most filings)."""
    return venue == MAIN_VENUE or session.scalar(_A_ROOM_AT, {"venue": venue}) is not None


# Built once: every filing checks its number and (at a tribunal) its venue.
_A_ROOM_AT = select(Courtroom.id).where(Courtroom.venue == bindparam("venue")).limit(1)
_CASE_NUMBERED = select(Case.id).where(Case.number == bindparam("number"))


def dossier_code(case_id: int, volume: int) -> str:
    """A short, unique, QR-alphanumeric dossier code: DS + case id + volume."""
    return f"DS{case_id:07d}-{volume:02d}"


def _check_officer(session: Session, judge_id: int, kind: CaseKind, field_name: str = "judge_id") -> User:
    officer = session.get(User, judge_id)
    allowed = {Role.judge} if kind != CaseKind.enforcement else {Role.judge, Role.enforcement_officer}
    if officer is None:
        raise Invalid("unknown_judge", "there is no such person: choose one from the list",
                      field=field_name, id=judge_id)
    if officer.role not in allowed or not officer.is_active:
        message = (N_("{name} is not an active judge") if kind != CaseKind.enforcement
                   else N_("{name} is not an active judge or enforcement officer"))
        raise Invalid("not_an_officer", message, field=field_name, name=officer.display_name)
    return officer


def _id_number(party: PartyIn, index: int) -> str | None:
    """The party's ID number as stored (upper case), refused when its check digit is wrong."""
    if not party.id_number:
        return None
    id_number = party.id_number.strip().upper()
    if classify(id_number) is None:
        raise Invalid(
            "invalid_id_number",
            "ID number's check digit is wrong (resident ID or unified social credit code)",
            field=f"parties.{index}.id_number",
        )
    return id_number


def _link_persons(session: Session, parties: list[Party], names: list[str]) -> frozenset[int]:
    """Point each party with an ID number at its person, created when new: one write, and a read
    of the persons known before. Answers the ids of the persons this filing created."""
    named = {}
    for party, name in zip(parties, names, strict=True):
        if party.id_number is not None:
            named[party.id_number] = name  # the last party's name for a person named twice, as before
    if not named:
        return frozenset()
    # One plaintiff (a bank, a landlord) files many cases at once: two filings may meet the
    # same new person. Insert-if-absent lets the database settle it and answers the rows it wrote.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"id_number": id_number, "kind": classify(id_number), "name": name} for id_number, name in named.items()]
    created = dict(session.execute(insert(Person).values(rows).on_conflict_do_nothing(index_elements=["id_number"])
                                   .returning(Person.id_number, Person.id)).all())
    known = [id_number for id_number in named if id_number not in created]
    found = {p.id_number: p for p in session.scalars(select(Person).where(Person.id_number.in_(known)))} \
        if known else {}
    for party, name in zip(parties, names, strict=True):
        if party.id_number in created:
            party.person_id = created[party.id_number]
        elif party.id_number is not None:
            person = found[party.id_number]
            person.name = name
            party.person_id = person.id
    return frozenset(created.values())


def file_case(session: Session, data: CaseIn, *, actor: User, now: datetime, settings: Settings) -> Case:
    """Enter a filed case with its parties, dossiers, deadline, first tasks and service orders.

    The case and its parties take their ids first (its id names the dossiers), then everything
    else takes its ids and all is written by one flush, each table's rows at once (``assign_ids``;
    on PostgreSQL two flushes); the audit entries follow in the order the steps happen.
    """
    kind = CaseKind(data.kind)
    number = data.number.strip()
    _check_filing(session, data, number, kind, now)
    parties = [_party(party_in, _id_number(party_in, index), index) for index, party_in in enumerate(data.parties)]
    new_persons = _link_persons(session, parties, [party_in.name for party_in in data.parties])
    case = Case(
        number=number,
        kind=kind,
        venue=data.venue,
        cause=data.cause,
        filed_at=data.filed_at,
        judge_id=data.judge_id,
        volumes=data.volumes,
        status=CaseStatus.open,
        deadline_at=period_end_months(data.filed_at, settings.statutory_months[kind.value], settings.timezone),
        created_by_id=actor.id,
        created_at=now,
    )
    case.parties = parties
    session.add(case)
    assign_ids(session)
    codes = [dossier_code(case.id, volume) for volume in range(1, data.volumes + 1)]
    case.dossiers = [Dossier(volume=volume, code=code, qr_token=sign(settings.qr_keyring, code), created_at=now)
                     for volume, code in enumerate(codes, start=1)]
    tasks = queues.tasks_at_filing(case, now=now, settings=settings)
    session.add_all(tasks)
    orders = orders_at_filing(session, case, tasks, now=now, settings=settings, new_persons=new_persons)
    session.add_all([order for order, _ in orders])
    assign_ids(session)
    session.flush()
    record(session, actor, "case.file", case, now=now,
           after={"number": case.number, "kind": kind.value, "judge_id": case.judge_id, "volumes": case.volumes})
    for task in tasks:
        task.record_opened(session, None, now=now)
    for order, found in orders:
        record_opened(session, order, found, now=now)
    return case


def _check_filing(session: Session, data: CaseIn, number: str, kind: CaseKind, now: datetime) -> None:
    """A new number, a known venue, not in the future, a fitting officer, known law firms."""
    if session.scalar(_CASE_NUMBERED, {"number": number}) is not None:
        raise Conflict("duplicate_number", "case {number} is already entered", field="number", number=number)
    if not is_known_venue(session, data.venue):
        raise Invalid(
            "unknown_venue", "venue {venue} is neither 'main' nor a tribunal with courtrooms", field="venue",
            venue=data.venue,
        )
    if data.filed_at > now + timedelta(hours=1):
        raise Invalid("filed_in_future", "filed_at lies in the future", field="filed_at")
    _check_officer(session, data.judge_id, kind)
    for index, party in enumerate(data.parties):
        if party.law_firm_id is not None and session.get(LawFirm, party.law_firm_id) is None:
            raise Invalid(
                "unknown_law_firm", "there is no such law firm: choose one from the list of law firms",
                field=f"parties.{index}.law_firm_id",
                id=party.law_firm_id,
            )


def _party(party_in, id_number: str | None, index: int) -> Party:
    """A party of the filing with its phones, e-mails and addresses (its person is linked after)."""
    party = Party(
        role=PartyRole(party_in.role),
        name=party_in.name.strip(),
        id_number=id_number,
        person_id=None,
        law_firm_id=party_in.law_firm_id,
    )
    for number, phone in enumerate(party_in.phones):
        party.contacts.append(
            PartyContact(kind=ContactKind.phone, value=normalize_phone(phone, f"parties.{index}.phones.{number}"))
        )
    for email in party_in.emails:
        party.contacts.append(PartyContact(kind=ContactKind.email, value=email.strip().lower()))
    for address in party_in.addresses:
        party.contacts.append(PartyContact(kind=ContactKind.address, value=address.text.strip(),
                                           latitude=address.latitude, longitude=address.longitude))
    return party


def get_case(session: Session, case_id: int) -> Case:
    return get_or_404(session, Case, case_id, code="case_not_found",
                      message=N_("there is no such case: check the case number and choose it again"),
                      field="case_id")


def close_case(
    session: Session, case: Case, *, closed_at: datetime, outcome: str, actor: User, now: datetime, settings: Settings
) -> Case:
    """Report a case closed; the archive task starts its 30-day clock."""
    if case.status != CaseStatus.open:
        raise Conflict("case_not_open", "case {number} is already {status}", field="case_id",
                       number=case.number, status=case.status.value)
    if closed_at < case.filed_at:
        raise Invalid("closed_before_filing", "closed_at is before the filing", field="closed_at")
    if closed_at > now + timedelta(hours=1):
        raise Invalid("closed_in_future", "closed_at lies in the future", field="closed_at")
    before = {"status": case.status.value}
    case.status = CaseStatus.closed
    case.closed_at = closed_at
    case.outcome = outcome
    session.flush()
    record(session, actor, "case.close", case, now=now, before=before,
           after={"status": "closed", "closed_at": closed_at.isoformat(), "outcome": outcome})
    queues.on_case_closed(session, case, now=now, settings=settings)
    return case


def update_case(
    session: Session,
    case: Case,
    *,
    actor: User,
    now: datetime,
    judge_id: int | None = None,
    track: str | None = None,
    mediation_likely: bool | None = None,
    hearing_minutes: int | None = None,
) -> Case:
    """Reassign the judge, or set the track, mediation flag or hearing length."""
    if case.status != CaseStatus.open:
        raise Conflict("case_not_open", "case {number} is {status}", field="case_id",
                       number=case.number, status=case.status.value)
    before, after = {}, {}
    if judge_id is not None and judge_id != case.judge_id:
        _check_officer(session, judge_id, case.kind)
        before["judge_id"], after["judge_id"] = case.judge_id, judge_id
        case.judge_id = judge_id
    if track is not None:
        before["track"] = case.track.value if case.track else None
        case.track = CaseTrack(track)
        after["track"] = track
    if mediation_likely is not None:
        before["mediation_likely"], after["mediation_likely"] = case.mediation_likely, mediation_likely
        case.mediation_likely = mediation_likely
    if hearing_minutes is not None:
        before["hearing_minutes"], after["hearing_minutes"] = case.hearing_minutes, hearing_minutes
        case.hearing_minutes = hearing_minutes
    if after:
        session.flush()
        record(session, actor, "case.update", case, now=now, before=before, after=after)
    return case


def create_law_firm(
    session: Session, *, name: str, email: str, e_service_agreement: bool, actor: User, now: datetime
) -> LawFirm:
    name = name.strip()
    if session.scalar(select(LawFirm.id).where(LawFirm.name == name)) is not None:
        raise Conflict("duplicate_law_firm", "law firm {name} exists", field="name", name=name)
    firm = LawFirm(
        name=name,
        email=email.strip().lower(),
        e_service_agreement=e_service_agreement,
        agreement_signed_at=now if e_service_agreement else None,
        created_at=now,
    )
    session.add(firm)
    session.flush()
    record(session, actor, "law_firm.create", firm, now=now,
           after={"name": name, "e_service_agreement": e_service_agreement})
    return firm
