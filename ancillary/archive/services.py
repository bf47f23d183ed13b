"""Archiving a closed case's dossiers: receive (a scan), count, bind, digitise, shelve.

Every step is a custody event on the dossier's chain. When the last dossier of a
case is shelved the case is ``archived`` and its archive task done.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ancillary import storage
from ancillary.archive.models import ArchiveRecord, BacklogFile
from ancillary.audit.services import record
from ancillary.auth.models import Role, User
from ancillary.cases.models import Case, CaseStatus, Dossier
from ancillary.custody.models import CustodyAction
from ancillary.custody.runs import append_run
from ancillary.custody.services import append_event
from ancillary.db import existing
from ancillary.errors import Conflict, Forbidden, Invalid
from ancillary.outbox import enqueue, reader_locale
from ancillary.queues.models import Task, TaskKind, TaskStatus
from ancillary.spans import Spans
from ancillary.timeutil import app_now, period_end_days

STEPS = ("count", "bind", "digitise", "archive")
MAX_PDF_BYTES = 200 * 1024 * 1024


def scan_relative_path(digest: str) -> str:
    """Where a scanned PDF is kept, relative to the storage folder: named by its hash."""
    return f"archive/{digest}.pdf"


def sweep_orphan_scans(session: Session, now: datetime, settings) -> dict:
    """Remove scanned PDFs no archive record names; place those whose record was committed."""
    def referenced(keys: list[str]) -> set[str]:
        digests = [key.removeprefix("archive/").removesuffix(".pdf") for key in keys]
        return {scan_relative_path(d) for d in existing(session, ArchiveRecord.scan_sha256, digests)}

    return storage.sweep_orphans(settings, "archive", referenced, now=now)


def _record(session: Session, dossier: Dossier) -> ArchiveRecord:
    found = session.scalar(select(ArchiveRecord).where(ArchiveRecord.dossier_id == dossier.id))
    if found is None:
        found = ArchiveRecord(dossier_id=dossier.id)
        session.add(found)
    return found


def _check(dossier: Dossier, actor: User) -> None:
    if actor.role != Role.archivist:
        raise Forbidden("role_not_allowed", "the {role} role may not do this", role=actor.role.value)
    case = dossier.case
    if case.status == CaseStatus.open:
        raise Conflict("case_not_closed", "case {number} is not closed yet", field="dossier_id", number=case.number)
    if case.status == CaseStatus.archived:
        raise Conflict("dossier_archived", "dossier {dossier_code} is archived: it no longer circulates",
                       field="dossier_id", dossier_code=dossier.code)
    if dossier.holder_id != actor.id:
        raise Conflict("receive_first", "scan dossier {dossier_code} to receive it before working on it",
                       field="dossier_id", dossier_code=dossier.code)


def record_step(
    session: Session,
    dossier: Dossier,
    step: str,
    *,
    actor: User,
    now: datetime,
    settings,
    material_count: int | None = None,
    archive_location: str | None = None,
    pdf: bytes | None = None,
) -> ArchiveRecord:
    """Record one archiving step on a dossier the archivist holds."""
    _check(dossier, actor)
    rec = _record(session, dossier)
    rec.archivist_id = actor.id
    details: dict = {}
    location = dossier.location
    if step == "count":
        if material_count is None:
            raise Invalid("count_required", "give the number of materials counted", field="material_count")
        rec.material_count, rec.counted_at = material_count, now
        details = {"material_count": material_count}
    elif step == "bind":
        if rec.counted_at is None:
            raise Conflict("count_first", "count the materials before binding", field="step")
        rec.bound_at = now
    elif step == "digitise":
        if rec.bound_at is None:
            raise Conflict("bind_first", "bind the volume before scanning it", field="step")
        if not pdf or not pdf.startswith(b"%PDF-"):
            raise Invalid("not_a_pdf", "the scanned file must be a PDF", field="file")
        digest = hashlib.sha256(pdf).hexdigest()
        key = storage.stage(session, settings, scan_relative_path(digest), pdf, "application/pdf")
        rec.scan_sha256, rec.scan_bytes, rec.scan_path, rec.digitised_at = digest, len(pdf), key, now
        details = {"sha256": digest, "bytes": len(pdf)}
    elif step == "archive":
        if rec.digitised_at is None:
            raise Conflict("digitise_first", "upload the scanned PDF before shelving", field="step")
        if not archive_location:
            raise Invalid("location_required", "give the archive location", field="archive_location")
        rec.archive_location, rec.archived_at = archive_location, now
        location = archive_location
        details = {"archive_location": archive_location}
    else:
        raise Invalid("bad_step", "step must be one of {steps}", field="step", steps=", ".join(STEPS))
    session.flush()
    append_event(session, dossier, action=CustodyAction(step), actor=actor, now=now, to_holder_id=actor.id,
                 location=location, details=details or None)
    if step == "archive":
        _maybe_archive_case(session, dossier, actor=actor, now=now)
    return rec


def archive_volume(session: Session, dossier: Dossier, *, actor: User, now: datetime, settings, material_count: int,
                   pdf: bytes, archive_location: str) -> ArchiveRecord:
    """Count, bind, digitise and shelve a volume the archivist holds, in one go.

    The same record, custody events and audit entries as the four ``record_step`` calls one
    after another at ``now`` (the suite compares them); checked first, so a refusal writes nothing.
    """
    _check(dossier, actor)
    if material_count is None:
        raise Invalid("count_required", "give the number of materials counted", field="material_count")
    if not pdf or not pdf.startswith(b"%PDF-"):
        raise Invalid("not_a_pdf", "the scanned file must be a PDF", field="file")
    if not archive_location:
        raise Invalid("location_required", "give the archive location", field="archive_location")
    rec = _record(session, dossier)
    rec.archivist_id = actor.id
    digest = hashlib.sha256(pdf).hexdigest()
    key = storage.stage(session, settings, scan_relative_path(digest), pdf, "application/pdf")
    rec.material_count, rec.counted_at, rec.bound_at = material_count, now, now
    rec.scan_sha256, rec.scan_bytes, rec.scan_path, rec.digitised_at = digest, len(pdf), key, now
    rec.archive_location, rec.archived_at = archive_location, now
    held_at = dossier.location
    append_run(session, dossier, [(CustodyAction.count, held_at, {"material_count": material_count}),
                                  (CustodyAction.bind, held_at, None),
                                  (CustodyAction.digitise, held_at, {"sha256": digest, "bytes": len(pdf)}),
                                  (CustodyAction.archive, archive_location, {"archive_location": archive_location})],
               actor=actor, now=now, to_holder_id=actor.id)
    _maybe_archive_case(session, dossier, actor=actor, now=now)
    return rec


def _maybe_archive_case(session: Session, shelved_now: Dossier, *, actor: User, now: datetime) -> None:
    """Archive the case once ``shelved_now`` (just shelved) was its last volume on no shelf.

    The other volumes' records are counted only when there are others: most cases have one.
    """
    case = shelved_now.case
    others = [d.id for d in case.dossiers if d.id != shelved_now.id]
    if others and session.scalar(
        select(func.count()).select_from(ArchiveRecord)
        .where(ArchiveRecord.dossier_id.in_(others), ArchiveRecord.archived_at.is_not(None))
    ) < len(others):
        return
    case.status = CaseStatus.archived
    for task in session.scalars(select(Task).where(Task.case_id == case.id, Task.kind == TaskKind.archive,
                                                   Task.status.in_([TaskStatus.open, TaskStatus.claimed]))):
        task.finish(session, actor=actor, now=now, reason="archived")
    session.flush()
    record(session, actor, "case.archive", case, now=now, before={"status": "closed"}, after={"status": "archived"})


def archive_queue(session: Session, now: datetime) -> tuple[list[dict], list[BacklogFile]]:
    """Closed cases counting down to their archive deadline, and the backlog, oldest first."""
    rows = session.execute(
        select(Task, Case).join(Case, Case.id == Task.case_id)
        .where(Task.kind == TaskKind.archive, Task.status.in_([TaskStatus.open, TaskStatus.claimed]))
        .order_by(Task.due_at, Task.id)
    ).all()
    shelved = dict(session.execute(
        select(Dossier.case_id, func.count()).join(ArchiveRecord, ArchiveRecord.dossier_id == Dossier.id)
        .where(ArchiveRecord.archived_at.is_not(None)).group_by(Dossier.case_id)
    ).all())
    cases = [
        {"task_id": task.id, "case_id": case.id, "case_number": case.number, "closed_at": case.closed_at,
         "due_at": task.due_at, "days_left": (task.due_at - now) // timedelta(days=1) if task.due_at > now else
         -((now - task.due_at) // timedelta(days=1)) - 1,
         "overdue": task.due_at < now, "volumes": case.volumes, "volumes_archived": shelved.get(case.id, 0),
         "assignee_id": task.assignee_id}
        for task, case in rows
    ]
    backlog = list(session.scalars(select(BacklogFile).where(BacklogFile.archived_at.is_(None))
                                   .order_by(BacklogFile.closed_on, BacklogFile.id)))
    return cases, backlog


# --- backlog import ----------------------------------------------------------------

BACKLOG_COLUMNS = ("case_number", "closed_on", "volumes", "location", "cause")


@dataclass
class ImportReport:
    imported: int = 0
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def import_backlog(session: Session, text: str, *, actor: User | None, now: datetime, progress=None) -> ImportReport:
    """Import backlog files from CSV (header: case_number,closed_on,volumes[,location,cause]).

    Good rows are kept, bad rows reported by line number with the reason; a case
    number already in the backlog or among the cases is a bad row, never a duplicate.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in BACKLOG_COLUMNS[:3] if c not in header]
    if missing:
        raise Invalid("bad_header", "the CSV header lacks {columns}", field="file", columns=", ".join(missing))
    known = set(session.scalars(select(BacklogFile.case_number))) | set(session.scalars(select(Case.number)))
    rows = list(reader)
    today = now.date()
    for index, raw in enumerate(rows):
        line = index + 2
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        reason = None
        number = row.get("case_number", "")
        try:
            closed_on = date.fromisoformat(row.get("closed_on", ""))
        except ValueError:
            closed_on, reason = None, "closed_on is not a date (YYYY-MM-DD)"
        volumes = row.get("volumes", "")
        if not 3 <= len(number) <= 64:
            reason = "case_number must be 3-64 characters"
        elif number in known:
            reason = f"case {number} is already known"
        elif reason is None and not (date(1949, 10, 1) <= closed_on <= today):
            reason = "closed_on is out of range"
        elif reason is None and not (volumes.isdigit() and 1 <= int(volumes) <= 200):
            reason = "volumes must be a whole number 1-200"
        elif len(row.get("location", "")) > 100 or len(row.get("cause", "")) > 200:
            reason = "location or cause is too long"
        if reason:
            report.bad_rows.append((line, reason))
        else:
            session.add(BacklogFile(case_number=number, closed_on=closed_on, volumes=int(volumes),
                                    location=row.get("location") or None, cause=row.get("cause") or None,
                                    imported_at=now))
            known.add(number)
            report.imported += 1
        if progress:
            progress(1)
    session.flush()
    record(session, actor, "archive.import_backlog", BacklogFile(), now=now,
           after={"imported": report.imported, "bad_rows": len(report.bad_rows)})
    return report


def archive_backlog_file(session: Session, item: BacklogFile, *, archive_location: str, material_count: int | None,
                         actor: User, now: datetime) -> BacklogFile:
    if item.archived_at is not None:
        raise Conflict("already_archived", "backlog file {number} is already archived", number=item.case_number)
    item.archive_location, item.material_count = archive_location, material_count
    item.archived_at, item.archived_by_id = now, actor.id
    session.flush()
    record(session, actor, "archive.backlog_archived", item, now=now,
           after={"case_number": item.case_number, "archive_location": archive_location})
    return item


# --- deadline warnings and the KPI -------------------------------------------------

WARN_DAYS = (7, 1)


def deadline_sweep(session: Session, now: datetime, settings) -> dict:
    """Warn archivists of archive tasks 7 and 1 days before their 30-day deadline, once each."""
    with reader_locale():  # a job: messages go out in the court's default language
        return _deadline_sweep(session, now, settings)


def _deadline_sweep(session: Session, now: datetime, settings) -> dict:

    tasks = session.execute(
        select(Task, Case).join(Case, Case.id == Task.case_id)
        .where(Task.kind == TaskKind.archive, Task.status.in_([TaskStatus.open, TaskStatus.claimed]),
               Task.due_at <= now + timedelta(days=max(WARN_DAYS)), Task.due_at > now)
    ).all()
    archivists = None
    queued = 0
    for task, case in tasks:
        days = min(d for d in WARN_DAYS if task.due_at <= now + timedelta(days=d))
        if task.assignee_id:
            recipients = [session.get(User, task.assignee_id)]
        else:
            if archivists is None:
                archivists = list(session.scalars(select(User).where(User.role == Role.archivist,
                                                                     User.is_active.is_(True))))
            recipients = archivists
        for user in recipients:
            if not user.phone:
                continue
            body = gettext("Archive deadline in {days} day(s): case {number} must be archived by {due}.").format(
                days=days, number=case.number, due=task.due_at.astimezone(settings.timezone).strftime("%Y-%m-%d"))
            enqueue(session, key=f"archive_deadline:{task.id}:{days}:{user.id}", channel="sms",
                    to_address=user.phone, body=body, kind="archive_deadline", now=now, recipient_id=user.id,
                    case_id=case.id, obj=task, settings=settings)
            queued += 1
    return {"warnings": queued}


def archive_kpis(session: Session, spans: Spans, settings) -> list[dict]:
    """Per span, the share of the cases closed in it that were archived within 30 days of closing.

    A case still inside its 30 days and not yet archived is undecided: it is left out,
    not counted as late.
    """
    now = app_now()
    in_period = (Case.closed_at >= spans.start, Case.closed_at < spans.end)
    closed = spans.split(session.execute(select(Case.id, Case.closed_at).where(*in_period)),
                         lambda row: _utc(row.closed_at))
    done = dict(session.execute(
        select(Dossier.case_id, func.max(ArchiveRecord.archived_at))
        .join(ArchiveRecord, ArchiveRecord.dossier_id == Dossier.id)
        .join(Case, Case.id == Dossier.case_id)
        .where(Case.status == CaseStatus.archived, *in_period)
        .group_by(Dossier.case_id)
    ).all())
    bodies = []
    for rows in closed:
        in_time = decided = archived = 0
        for case_id, closed_at in rows:
            due = period_end_days(closed_at, settings.archive_days, settings.timezone)
            if case_id in done:
                archived += 1
                decided += 1
                in_time += _utc(done[case_id]) <= due
            elif now > due:
                decided += 1
        bodies.append({"archived_within_30_days_rate": in_time / decided if decided else None,
                       "cases_archived": archived, "cases_awaiting_archive": len(rows) - archived,
                       "rate_counts": {"archived_within_30_days_rate": [in_time, decided]}})
    return bodies


def _utc(value: datetime) -> datetime:

    return value if value.tzinfo else value.replace(tzinfo=UTC)
