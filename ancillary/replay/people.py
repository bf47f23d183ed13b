"""Contractor posts working their queues: each person takes the most urgent ready item when free."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ancillary.replay.clock import Clock, WorkingHours


@dataclass
class Worker:
    user_id: int
    free_at: datetime
    busy_minutes: float = 0.0
    own: list = field(default_factory=list)  # items only this person may do (they hold the task)


@dataclass(order=True)
class Item:
    priority: int
    ready_at: datetime
    seq: int
    action: Callable = field(compare=False)
    args: tuple = field(compare=False, default=())


class Pool:
    """One post's staff and its queue. ``action(worker, now, *args)`` does the work and returns its minutes."""

    def __init__(self, name: str, user_ids: list[int], clock: Clock, hours: WorkingHours, start: datetime):
        self.name = name
        self.clock = clock
        self.hours = hours
        self.workers = {uid: Worker(uid, start) for uid in user_ids}
        self.shared: list[Item] = []
        self._seq = 0
        self._wakes: set[datetime] = set()
        self.done = 0

    def add(self, action: Callable, *args, ready_at: datetime, priority: int = 5, owner: int | None = None) -> None:
        self._seq += 1
        item = Item(priority, ready_at, self._seq, action, args)
        heapq.heappush(self.workers[owner].own if owner in self.workers else self.shared, item)
        self._wake(max(ready_at, self.clock.now))

    def waiting(self, now: datetime) -> int:
        return sum(1 for i in self.shared if i.ready_at <= now) + sum(
            1 for w in self.workers.values() for i in w.own if i.ready_at <= now)

    def _wake(self, when: datetime) -> None:
        when = self.hours.next_start(when)
        if when not in self._wakes:
            self._wakes.add(when)
            self.clock.at(when, self._run, when)

    def _run(self, when: datetime) -> None:
        self._wakes.discard(when)
        now = self.clock.now
        if not self.hours.is_working(now):
            self._wake(now)
            return
        for worker in sorted(self.workers.values(), key=lambda w: (w.free_at, w.user_id)):
            if worker.free_at > now:
                self._wake(worker.free_at)
                continue
            item = self._next(worker, now)
            if item is None:
                continue
            minutes = item.action(worker, now, *item.args) or 0.0
            worker.busy_minutes += minutes
            worker.free_at = now + timedelta(minutes=minutes)
            self.done += 1
            self._wake(worker.free_at)
        pending = [i.ready_at for i in self.shared if i.ready_at > now]
        pending += [i.ready_at for w in self.workers.values() for i in w.own if i.ready_at > now]
        if pending:
            self._wake(min(pending))

    def _next(self, worker: Worker, now: datetime) -> Item | None:
        """The most urgent ready item of the person's own and the shared queue."""
        best = None
        for queue in (worker.own, self.shared):
            ready = [i for i in queue if i.ready_at <= now]
            if ready:
                candidate = min(ready)
                if best is None or candidate < best[1]:
                    best = (queue, candidate)
        if best is None:
            return None
        queue, item = best
        queue.remove(item)
        heapq.heapify(queue)
        return item
