"""The one place the replay calls the product: its public services, sweeps and KPIs.

Every state change of the replay goes through a function here, which calls the same
service a request or ``ancillary tick`` calls; when a service moves, only this file follows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ancillary.archive.services import archive_volume
from ancillary.auth.services import create_user
from ancillary.cases.services import AddressIn, CaseIn, PartyIn, close_case, create_law_firm, file_case
from ancillary.custody.services import scan
from ancillary.jobs import run_sweeps
from ancillary.outbox import NotificationItem, apply_provider_status
from ancillary.queues.models import GroupCode, Task, TaskKind
from ancillary.queues.services import claim, create_follow_up_post, create_post
from ancillary.reminders.services import acknowledge
from ancillary.reports.kpis import collect
from ancillary.scheduling import auto
from ancillary.scheduling.calendar import WorkingDays, load_official
from ancillary.scheduling.further import request_further_hearing
from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.scheduling.queries import suggestions
from ancillary.scheduling.services import book, create_courtroom, move
from ancillary.service.attempts import AttemptIn, record_attempt
from ancillary.service.carrier import CarrierEventIn
from ancillary.service.services import apply_carrier_event
from ancillary.wiring import KPI_PROVIDERS

__all__ = ["AddressIn", "CaseIn", "PartyIn", "AttemptIn", "GroupCode"]


def add_user(session: Session, *, username: str, role: str, display_name: str, phone: str, now: datetime):
    return create_user(session, username=username, role=role, display_name=display_name, phone=phone,
                       now=now, actor=None)


def add_post(session: Session, *, user, group_code: GroupCode, kind: str, now: datetime):
    return create_post(session, user=user, group_code=group_code, kind=kind, now=now)


def add_follow_up_post(session: Session, *, user_id: int, officer_ids: list[int], group: str, actor, now: datetime):
    return create_follow_up_post(session, user_id=user_id, officer_ids=officer_ids, actor=actor, now=now,
                                 group_code=group)


def add_courtroom(session: Session, *, name: str, venue: str, opens, closes, actor, now: datetime):
    return create_courtroom(session, name=name, venue=venue, opens=opens, closes=closes, actor=actor, now=now)


def add_law_firm(session: Session, *, name: str, email: str, agreed: bool, actor, now: datetime):
    return create_law_firm(session, name=name, email=email, e_service_agreement=agreed, actor=actor, now=now)


def load_calendar(session: Session, years: list[int], now: datetime) -> None:
    load_official(session, years, now=now)


def working_days(session: Session, first: date, last: date) -> WorkingDays:
    return WorkingDays.load(session, first, last)


def enter_case(session: Session, data: CaseIn, *, actor, now: datetime, settings):
    """File a case as intake does; answers the case and its open tasks."""
    case = file_case(session, data, actor=actor, now=now, settings=settings)
    tasks = list(session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.id)))
    return case, tasks


def claim_task(session: Session, task_id: int, *, actor, now: datetime):
    return claim(session, task_id, actor=actor, now=now)


def slots(session: Session, case, *, now: datetime, settings, limit: int = 5) -> list:
    return suggestions(session, case, now=now, settings=settings, limit=limit)


def book_hearing(session: Session, *, case_id: int, courtroom_id: int, starts_at, ends_at, actor, now, settings):
    return book(session, case_id=case_id, courtroom_id=courtroom_id, starts_at=starts_at, ends_at=ends_at,
                actor=actor, now=now, settings=settings)


def move_hearing(session: Session, hearing, *, starts_at, ends_at, courtroom_id: int, actor, now, settings):
    """Adjourn: move the hearing as PATCH /api/v1/hearings/ID does."""
    return move(session, hearing, starts_at=starts_at, ends_at=ends_at, courtroom_id=courtroom_id, actor=actor,
                now=now, settings=settings)


def further_hearing(session: Session, hearing, *, actor, now: datetime, settings):
    """POST /api/v1/hearings/ID/further-hearing: the case goes back to the scheduling queue."""
    return request_further_hearing(session, hearing, actor=actor, now=now, settings=settings)


def hearings_held(session: Session, case_id: int, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(Hearing).where(
        Hearing.case_id == case_id, Hearing.status == HearingStatus.booked, Hearing.ends_at <= now))


def reminded_post(session: Session, hearing_id: int) -> int | None:
    """The follow-up post whose digest told it this hearing's case was heard but not reported closed."""
    return session.scalar(select(NotificationItem.recipient_id).where(
        NotificationItem.rule == "heard_not_closed", NotificationItem.object_type == "hearings",
        NotificationItem.object_id == hearing_id, NotificationItem.digest == "follow_up",
        NotificationItem.notification_id.is_not(None)).order_by(NotificationItem.id).limit(1))


def auto_schedule(session: Session, first: date, last: date, *, actor, now: datetime, settings) -> dict:
    return auto.run(session, first, last, actor=actor, now=now, settings=settings)


def attempt(session: Session, order, data: AttemptIn, *, actor, now: datetime, settings, photo: bytes | None = None):
    return record_attempt(session, order, data, photo=photo, actor=actor, now=now, settings=settings)


def carrier_event(session: Session, event: CarrierEventIn, *, now: datetime, settings) -> str:
    return apply_carrier_event(session, event, source="webhook", now=now, settings=settings)


def provider_status(session: Session, *, notification, status: str, now: datetime):
    """The provider's delivery callback, as the Twilio status webhook records it."""
    return apply_provider_status(session, provider_id=notification.provider_id, status=status, now=now,
                                 notification_id=notification.id)


def close(session: Session, case, *, closed_at: datetime, outcome: str, actor, now: datetime, settings):
    return close_case(session, case, closed_at=closed_at, outcome=outcome, actor=actor, now=now, settings=settings)


def receive_dossier(session: Session, dossier, *, actor, now: datetime, settings, location: str):
    return scan(session, keyring=settings.qr_keyring, code=dossier.qr_token, action="receive", location=location,
                client_scan_id=None, device_at=None, actor=actor, now=now)


def archive_whole_volume(session: Session, dossier, *, actor, now: datetime, settings, material_count: int,
                         pdf: bytes, archive_location: str):
    """Count, bind, digitise and shelve a volume at once: the rows of the four steps one by one."""
    return archive_volume(session, dossier, actor=actor, now=now, settings=settings, material_count=material_count,
                          pdf=pdf, archive_location=archive_location)


def ack(session: Session, notification, *, actor, now: datetime):
    return acknowledge(session, notification, actor=actor, now=now, via="web")


def tick(app, now: datetime) -> list:
    """The sweeps exactly as ``ancillary tick --at NOW`` runs them, outbox delivery included."""
    return run_sweeps(app, now)


def kpis(session: Session, first: date, last: date, settings) -> dict:
    """What GET /api/v1/reports/kpis?from=FIRST&to=LAST answers."""
    return collect(session, first, last, settings, KPI_PROVIDERS)


def serve_task_kind() -> TaskKind:
    return TaskKind.serve
