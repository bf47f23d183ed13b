"""The recipient's addresses on an order: confirmed ones from other cases first (layer 0),
then the filing's; failed ones are marked so they are not tried again blindly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.cases.models import Case, ContactKind, Party, PartyContact
from ancillary.service.models import (
    BAD_ADDRESS_OUTCOMES,
    AttemptChannel,
    AttemptOutcome,
    ServiceAddress,
    ServiceAttempt,
    ServiceOrder,
)


def attach_addresses(session: Session, order: ServiceOrder, party, case, now: datetime, *, reuse: bool = True,
                     new_person: bool = False) -> int:
    """Addresses confirmed in the person's other cases first (newest first), then the filing's.

    Confirmed: an address where personal service, signed mail or a posting served this
    person in another case. An address where they had moved or were unknown is marked
    failed (unless confirmed again later), so it is not tried again blindly. A person first
    written by this very filing (``new_person``) has no other case to ask.
    """
    known_person = party.person_id is not None and reuse and not new_person  # the court may switch reuse off
    confirmed, failed, positions = _history(session, party, case) if known_person else ([], {}, {})
    for contact in party.contacts:
        if contact.kind == ContactKind.address and contact.latitude is not None:
            positions[contact.value] = (contact.latitude, contact.longitude)
    rank = 0
    for text, confirmed_at, case_id, number in confirmed:
        rank += 1
        lat, lon = positions.get(text, (None, None))
        order.addresses.append(ServiceAddress(rank=rank, text=text, latitude=lat, longitude=lon, source="confirmed",
                                              source_case_id=case_id, source_case_number=number,
                                              confirmed_at=confirmed_at))
    known = {a for a, *_ in confirmed}
    for contact in party.contacts:
        if contact.kind != ContactKind.address or contact.value in known:
            continue
        known.add(contact.value)
        rank += 1
        marked = failed.get(contact.value)
        order.addresses.append(ServiceAddress(rank=rank, text=contact.value, latitude=contact.latitude,
                                              longitude=contact.longitude, source="filing",
                                              failed_at=marked[0] if marked else None,
                                              failed_reason=marked[1] if marked else None))
    return len(confirmed)


def _history(session: Session, party, case):
    """What other cases taught about the person's addresses: confirmed ones (newest first),
    failed ones, and known positions."""
    confirmed: list[tuple[str, datetime, int, str]] = []
    failed: dict[str, tuple[datetime, str]] = {}
    positions: dict[str, tuple[float, float]] = {}
    rows = session.execute(
        select(ServiceAttempt.address, ServiceAttempt.outcome, ServiceAttempt.attempted_at,
               ServiceOrder.served_at, Case.id, Case.number)
        .join(ServiceOrder, ServiceOrder.id == ServiceAttempt.order_id)
        .join(Party, Party.id == ServiceOrder.recipient_party_id)
        .join(Case, Case.id == ServiceOrder.case_id)
        .where(Party.person_id == party.person_id, ServiceOrder.case_id != case.id,
               ServiceAttempt.address.is_not(None),
               ServiceAttempt.channel.in_([AttemptChannel.personal, AttemptChannel.mail, AttemptChannel.posting]),
               ServiceAttempt.outcome.in_([AttemptOutcome.served, AttemptOutcome.posted,
                                           *BAD_ADDRESS_OUTCOMES]))
        .order_by(ServiceAttempt.attempted_at.desc())
    ).all()
    decided: set[str] = set()
    for address, outcome, attempted_at, served_at, case_id, number in rows:
        if address in decided:
            continue  # the newest report on an address decides
        decided.add(address)
        if outcome in BAD_ADDRESS_OUTCOMES:
            failed[address] = (attempted_at, outcome.value)
        else:
            confirmed.append((address, served_at or attempted_at, case_id, number))
    if not confirmed:  # positions only place confirmed addresses: most persons have none to read them for
        return confirmed, failed, positions
    for text, lat, lon in session.execute(
        select(PartyContact.value, PartyContact.latitude, PartyContact.longitude)
        .join(Party, Party.id == PartyContact.party_id)
        .where(Party.person_id == party.person_id, PartyContact.kind == ContactKind.address,
               PartyContact.latitude.is_not(None))
    ):
        positions.setdefault(text, (lat, lon))
    for sibling in session.new:  # the person's other parties of this filing, not written yet
        if isinstance(sibling, Party) and sibling.person_id == party.person_id:
            for contact in sibling.contacts:
                if contact.kind == ContactKind.address and contact.latitude is not None:
                    positions.setdefault(contact.value, (contact.latitude, contact.longitude))
    return confirmed, failed, positions


def usable_addresses(order: ServiceOrder) -> list[ServiceAddress]:
    return [a for a in order.addresses if a.failed_at is None]


def address_for(order: ServiceOrder, text: str | None, now: datetime) -> ServiceAddress | None:
    """The order's address ``text`` (added as a clerk's find when new), or the first usable one."""
    if text:
        text = text.strip()
        for address in order.addresses:
            if address.text == text:
                return address
        address = ServiceAddress(rank=len(order.addresses) + 1, text=text, source="clerk")
        order.addresses.append(address)
        return address
    usable = usable_addresses(order)
    return usable[0] if usable else None


def mark_failed(order: ServiceOrder, text: str | None, reason: AttemptOutcome, at: datetime) -> None:
    for address in order.addresses:
        if address.text == text and address.failed_at is None:
            address.failed_at, address.failed_reason = at, reason.value
