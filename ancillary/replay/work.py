"""What each person of the simulated court does: intake, scheduling, judges, archive.

Service of process (the ladder and the parties' answers) is in ``serving.py``. Every
handler loads what it needs by id (the sweeps empty the session), calls the product
through ``actions``, and returns the minutes the person spent.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from ancillary.cases.models import Case, CaseStatus, LawFirm
from ancillary.demo import CAUSES, COMPANY_KINDS, COMPANY_WORDS, _address, _name, _phone, _resident_id, _uscc
from ancillary.replay import actions

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
OUTCOMES = {"speedy": "调解结案", "summary": "判决结案", "ordinary": "判决结案", "enforcement": "执行完毕"}


class Intake:
    """Cases arrive at the filing office; an intake clerk enters each one."""

    def __init__(self, replay):
        self.r = replay
        self.rng = replay.stream("cases")
        self.persons: list[tuple[str, str, object]] = []  # earlier defendants: name, id number, true address
        self.serial = 0

    def arrive(self, kind: str) -> None:
        r = self.r
        r.pools["intake_clerk"].add(self.enter, kind, r.clock.now, ready_at=r.clock.now)

    def enter(self, worker, now: datetime, kind: str, arrived_at: datetime) -> float:
        r, rng = self.r, self.rng
        self.serial += 1
        officer = rng.choice(r.court.officers if kind == "enforcement" else r.court.judges)
        venue = "main" if kind == "enforcement" or rng.random() >= r.rs.rates.tribunal_venue else rng.choices(
            r.court.venues[1:], r.court.tribunal_rooms)[0]
        defendants, truths = self._defendants()
        plaintiff = self._plaintiff()
        prefix = "执" if kind == "enforcement" else "民初"
        data = actions.CaseIn(
            number=f"({arrived_at.astimezone(r.tz).year})鲁1002{prefix}{self.serial}号", kind=kind, venue=venue,
            filed_at=arrived_at, judge_id=officer, volumes=rng.choices((1, 2, 3), (80, 15, 5))[0],
            cause=rng.choice(CAUSES[kind]), parties=[plaintiff, *defendants])
        r.user(officer)  # the judge and the law firms the filing names are known to intake: not read again
        for firm in {party.law_firm_id for party in data.parties if party.law_firm_id is not None}:
            r.kept(LawFirm, firm)
        entered = r.call(actions.enter_case, data, actor=r.user(worker.user_id), now=now, settings=r.settings)
        if entered is None:
            return r.rs.minutes.file_case
        case, tasks = entered
        for party in case.parties:
            if party.role.value == "defendant":
                r.truth[party.id] = truths.pop(0)
        case_id = case.id
        for task in tasks:
            if task.kind.value == "schedule_hearing" and not r.rs.has("auto-scheduling"):
                r.pools["scheduler"].add(r.scheduling.by_hand, task.id, case_id, ready_at=now,
                                         priority=0 if kind == "speedy" else 1)
            elif task.kind.value == "serve":
                r.pools["service_clerk"].add(r.serving.first_contact, task.id, ready_at=now,
                                             priority=0 if kind == "speedy" else 1)
        r.counts["cases"] += 1
        return r.rs.minutes.file_case

    def _plaintiff(self) -> actions.PartyIn:
        r, rng = self.r, self.rng
        with_firm = rng.random() < r.rs.rates.law_firm_for_plaintiff
        firm = rng.choice(r.court.firms_agreed + r.court.firms_other) if with_firm \
            else None
        if rng.random() < 0.4:
            name = rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_WORDS) + rng.choice(COMPANY_KINDS)
            return actions.PartyIn(role="plaintiff", name=name, id_number=_uscc(rng), phones=[_phone(rng)],
                                   addresses=[_address(rng)], law_firm_id=firm)
        return actions.PartyIn(role="plaintiff", name=_name(rng), id_number=_resident_id(rng), phones=[_phone(rng)],
                               addresses=[_address(rng)], law_firm_id=firm)

    def _defendants(self) -> tuple[list, list[str]]:
        r, rng, rates = self.r, self.rng, self.r.rs.rates
        parties, truths = [], []
        for index in range(2 if rng.random() < rates.second_defendant else 1):
            if index == 0 and self.persons and rng.random() < rates.repeat_defendant:
                name, id_number, true_address = rng.choice(self.persons)
                given = _address(rng) if rng.random() < rates.stale_address else true_address
            else:
                name, id_number, true_address = _name(rng), _resident_id(rng), _address(rng)
                self.persons.append((name, id_number, true_address))
                given = true_address
            firm = rng.choice(r.court.firms_agreed) if r.court.firms_agreed and rng.random() < rates.agreed_law_firm \
                else None
            parties.append(actions.PartyIn(role="defendant", name=name, id_number=id_number, phones=[_phone(rng)],
                                           addresses=[given], law_firm_id=firm))
            truths.append(true_address.text)
        return parties, truths


class Scheduling:
    """Schedulers book hearings: by hand from the suggestions, or by running auto-scheduling."""

    def __init__(self, replay):
        self.r = replay
        self.rng = replay.stream("scheduling")

    def by_hand(self, worker, now: datetime, task_id: int, case_id: int, claimed: bool = False) -> float:
        r = self.r
        case = r.session.get(Case, case_id)
        if case is None or case.status != CaseStatus.open:
            return 0.0
        actor = r.user(worker.user_id)
        if not claimed and r.call(actions.claim_task, task_id, actor=actor, now=now) is None:
            return r.rs.minutes.claim
        found = r.call(actions.slots, case, now=now, settings=r.settings) or []
        if not found:  # nothing free yet: the scheduler tries again the next working day
            r.pools["scheduler"].add(self.by_hand, task_id, case_id, True, ready_at=now + timedelta(days=1),
                                     owner=worker.user_id, priority=0)
            return r.rs.minutes.schedule_by_hand
        slot = found[self.rng.randrange(min(3, len(found)))]  # a person does not always take the first
        hearing = r.call(actions.book_hearing, case_id=case_id, courtroom_id=slot["courtroom_id"],
                         starts_at=slot["starts_at"], ends_at=slot["ends_at"], actor=actor, now=now,
                         settings=r.settings)
        if hearing is not None:
            r.judges.heard(case, hearing.ends_at, hearing.id, hearing.starts_at)
        return r.rs.minutes.schedule_by_hand

    def auto_run(self, worker, now: datetime) -> float:
        r = self.r
        today = now.astimezone(r.tz).date()
        result = r.call(actions.auto_schedule, today, today + timedelta(days=r.settings.auto_schedule_max_days - 1),
                        actor=r.user(worker.user_id), now=now, settings=r.settings)
        booked = (result or {}).get("scheduled", [])
        cases = {case.id: case for case in r.session.scalars(  # the booked cases in one read, not one each
            select(Case).where(Case.id.in_([row["case_id"] for row in booked])))} if booked else {}
        for row in booked:
            r.judges.heard(cases[row["case_id"]], row["ends_at"], row["id"], row["starts_at"])
        r.counts["auto_runs"] += 1
        if not booked and not (result or {}).get("unscheduled"):
            return 0.0  # nothing was waiting: the plan is empty, there is nothing to check
        return r.rs.minutes.schedule_auto_run + r.rs.minutes.schedule_auto_case * len(booked)


class Judges:
    """Judges hear the case and report it closed within the kind's usual time after the hearing."""

    def __init__(self, replay):
        self.r = replay

    def heard(self, case, hearing_ends_at: datetime, hearing_id: int | None = None, starts_at=None) -> None:
        """A hearing was booked: ``replay.hearings`` follows it to its end (adjourned, or heard again)."""
        if hearing_id is not None:
            self.r.hearings.booked(case, hearing_id, starts_at, hearing_ends_at)
        else:
            self.decide(case, hearing_ends_at)

    def decide(self, case, hearing_ends_at: datetime) -> None:
        """The case is decided at this hearing: reported closed within the kind's usual time."""
        r = self.r
        rng = r.draw("judges", case.id)  # the case's own stream: the order hearings are booked in does not matter
        low, high = r.rs.close_days[case.kind.value]
        if rng.random() < r.rs.rates.late_close:
            closed_at = case.deadline_at + timedelta(days=rng.randint(1, 15))
        else:
            closed_at = hearing_ends_at + timedelta(days=rng.randint(low, high))
            closed_at = min(closed_at, case.deadline_at - timedelta(hours=12))
        local = max(closed_at, hearing_ends_at + timedelta(hours=1)).astimezone(r.tz)
        closed_at = datetime.combine(local.date(), time(16, rng.randrange(60)), r.tz) if local.hour < 16 else local
        r.clock.at(closed_at, self.close, case.id, case.judge_id)

    def close(self, case_id: int, judge_id: int) -> None:
        r = self.r
        now = r.clock.now
        case = r.session.get(Case, case_id)
        if case is None or case.status != CaseStatus.open:
            return
        done = r.call(actions.close, case, closed_at=now, outcome=OUTCOMES[case.kind.value],
                      actor=r.user(judge_id), now=now, settings=r.settings)
        r.commit()
        if done is not None:
            r.counts["closed"] += 1
            low, high = r.rs.take_back_days
            back = now + timedelta(days=r.draw("take-back", case_id).randint(low, high))
            r.pools["archivist"].add(r.archive.archive_case, case_id, ready_at=back, priority=1)


class Archive:
    """The archive post takes the files back, then receives, counts, binds, scans and shelves each volume."""

    def __init__(self, replay):
        self.r = replay

    def archive_case(self, worker, now: datetime, case_id: int) -> float:
        r = self.r
        case = r.session.get(Case, case_id)
        if case is None or case.status != CaseStatus.closed:
            return 0.0
        actor = r.user(worker.user_id)
        task = next((t for t in r.open_tasks(case_id) if t.kind.value == "archive"), None)
        if task is not None:
            r.call(actions.claim_task, task.id, actor=actor, now=now)
        minutes = r.rs.minutes.claim
        for dossier in sorted(case.dossiers, key=lambda d: d.volume):
            step_at = now  # the steps are stamped when the person starts the file: time only moves forward
            r.call(actions.receive_dossier, dossier, actor=actor, now=step_at, settings=r.settings, location="档案室")
            r.call(actions.archive_whole_volume, dossier, actor=actor, now=step_at, settings=r.settings,
                   material_count=r.draw("archive", dossier.id).randint(20, 200), pdf=MINIMAL_PDF,
                   archive_location=f"档案库{dossier.case_id % 40 + 1:02d}柜")
            minutes += r.rs.minutes.archive_volume
        r.counts["archived"] += 1
        return minutes
