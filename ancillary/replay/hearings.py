"""Hearings after they are booked: adjournments, and further hearings of cases heard but not decided.

A booked hearing is followed to its end. A share of hearings is adjourned before it: a
scheduler moves it to a later slot of the suggestions (``move``, as the API does). At its
end the judge either decides (``Judges.decide``: the case is reported closed in its kind's
usual time) or, at the kind's rate, needs another hearing: the judge asks for it, or,
when the judge forgets, the follow-up post paired with the judge asks once the product's
"heard, not reported closed" reminder reaches the post. Either way the product reopens the
case's scheduling task and the case is booked again like a new one.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from ancillary.cases.models import Case, CaseStatus
from ancillary.replay import actions
from ancillary.scheduling.models import Hearing, HearingStatus

PROMPT_TRIES = 3  # days a follow-up post looks for the reminder before the judge is asked directly


class Hearings:
    def __init__(self, replay):
        self.r = replay
        self.waiting: set[int] = set()  # cases asked a further hearing, not booked yet

    def booked(self, case, hearing_id: int, starts_at: datetime, ends_at: datetime, *, may_adjourn: bool = True):
        self.waiting.discard(case.id)
        self.r.clock.at(ends_at, self.held, case.id, hearing_id, ends_at)
        if may_adjourn:
            self._maybe_adjourn(case, hearing_id, starts_at)

    # --- adjournments -------------------------------------------------------------------

    def _maybe_adjourn(self, case, hearing_id: int, starts_at: datetime) -> None:
        r = self.r
        rng = r.draw("adjourn", case.id, hearing_id)
        if rng.random() >= getattr(r.rs.rates, f"adjourned_{case.kind.value}"):
            return
        low, high = r.rs.adjourn_days
        at = max(r.clock.now + timedelta(hours=1), starts_at - timedelta(days=rng.randint(low, high)))
        if at < starts_at - timedelta(hours=2):
            r.pools["scheduler"].add(self.adjourn, hearing_id, ready_at=at, priority=1)

    def adjourn(self, worker, now: datetime, hearing_id: int) -> float:
        """A party asked for time: the scheduler moves the hearing to the first later slot suggested."""
        r = self.r
        hearing = r.session.get(Hearing, hearing_id)
        if hearing is None or hearing.status != HearingStatus.booked or hearing.starts_at <= now + timedelta(hours=1):
            return 0.0
        case = r.session.get(Case, hearing.case_id)
        if case.status != CaseStatus.open:
            return 0.0
        found = r.call(actions.slots, case, now=now, settings=r.settings, limit=10) or []
        later = [s for s in found if s["starts_at"] > hearing.starts_at]
        if not later:  # nothing later within the case's limits: the hearing stays
            r.counts["adjournments.no_later_slot"] += 1
            return r.rs.minutes.adjourn
        slot = later[0]
        moved = r.call(actions.move_hearing, hearing, starts_at=slot["starts_at"], ends_at=slot["ends_at"],
                       courtroom_id=slot["courtroom_id"], actor=r.user(worker.user_id), now=now, settings=r.settings)
        if moved is not None:
            r.counts["adjournments"] += 1
            self.booked(case, hearing_id, moved.starts_at, moved.ends_at, may_adjourn=False)
        return r.rs.minutes.adjourn

    # --- the hearing's end --------------------------------------------------------------

    def held(self, case_id: int, hearing_id: int, ends_at: datetime) -> None:
        r = self.r
        found = r.session.execute(select(Hearing, Case).join(Case, Case.id == Hearing.case_id)
                                  .where(Hearing.id == hearing_id)).first()  # both in one read
        hearing, case = found if found is not None else (None, None)
        if hearing is None or hearing.status != HearingStatus.booked or hearing.ends_at != ends_at:
            return  # moved (its new end is followed) or cancelled
        if case.status != CaseStatus.open:
            return
        r.counts["hearings_held"] += 1
        number = actions.hearings_held(r.session, case_id, r.clock.now)
        if self._needs_further(case, number):
            self._ask(case, hearing_id, number)
        else:
            r.judges.decide(case, ends_at)

    def _needs_further(self, case, number: int) -> bool:
        r = self.r
        if number >= r.rs.max_hearings:
            return False
        rate = getattr(r.rs.rates, f"further_{case.kind.value}") if number == 1 else r.rs.rates.third_hearing
        if r.draw("further", case.id, number).random() >= rate:
            return False
        return case.deadline_at - r.clock.now > timedelta(days=r.rs.further_margin_days)

    def _ask(self, case, hearing_id: int, number: int) -> None:
        r = self.r
        rng = r.draw("asks", case.id, number)
        now = r.clock.now
        if rng.random() < r.rs.rates.judge_asks:
            day = now.astimezone(r.tz).date() + timedelta(days=rng.randint(*r.rs.ask_days))
            r.clock.at(datetime.combine(day, time(16, rng.randrange(60)), r.tz), self.judge_asks, hearing_id)
        else:
            due = now + timedelta(days=r.settings.heard_not_closed_days)
            r.clock.at(r.after_next_tick(due), self.prompt, case.id, hearing_id, 0)
        self.waiting.add(case.id)
        r.clock.at(case.deadline_at - timedelta(days=2), self.decide_if_waiting, case.id)

    def judge_asks(self, hearing_id: int, who: str = "judge") -> None:
        r = self.r
        hearing = r.session.get(Hearing, hearing_id)
        case = r.session.get(Case, hearing.case_id)
        if case.status == CaseStatus.open:
            self._request(hearing, r.user(case.judge_id), r.clock.now, who)
        r.commit()

    def prompt(self, case_id: int, hearing_id: int, tries: int) -> None:
        """The reminder's day: the follow-up post it reached asks for the further hearing."""
        r = self.r
        case = r.session.get(Case, case_id)
        if case is None or case.status != CaseStatus.open:
            return
        post_user = actions.reminded_post(r.session, hearing_id)
        if post_user is not None:
            r.pools["follow_up"].add(self.follow_up_asks, hearing_id, ready_at=r.clock.now, owner=post_user,
                                     priority=1)
        elif tries < PROMPT_TRIES:
            r.clock.at(r.clock.now + timedelta(days=1), self.prompt, case_id, hearing_id, tries + 1)
        else:
            self.judge_asks(hearing_id, "judge_unprompted")

    def follow_up_asks(self, worker, now: datetime, hearing_id: int) -> float:
        r = self.r
        hearing = r.session.get(Hearing, hearing_id)
        self._request(hearing, r.user(worker.user_id), now, "follow_up")
        return r.rs.minutes.follow_up_prompt

    def _request(self, hearing, actor, now: datetime, who: str) -> None:
        r = self.r
        case_id, speedy = hearing.case_id, hearing.case.kind.value == "speedy"
        answer = r.call(actions.further_hearing, hearing, actor=actor, now=now, settings=r.settings)
        if answer is None:
            return
        task, created = answer
        r.counts[f"further_hearings.asked_by_{who}"] += 1
        if created and not r.rs.has("auto-scheduling"):
            r.pools["scheduler"].add(r.scheduling.by_hand, task.id, case_id, ready_at=now, priority=0 if speedy else 1)

    def decide_if_waiting(self, case_id: int) -> None:
        """Two days before the limit, a case still waiting for its further hearing is decided without it."""
        r = self.r
        case = r.session.get(Case, case_id)
        if case_id not in self.waiting or case is None or case.status != CaseStatus.open:
            return
        self.waiting.discard(case_id)
        r.counts["further_hearings.decided_without"] += 1
        r.judges.decide(case, r.clock.now)
