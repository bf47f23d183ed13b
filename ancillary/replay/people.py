"""Contractor posts working their queues: each person takes the most urgent ready item when free."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ancillary.replay.clock import Clock, WorkingHours


@dataclass(order=True)
class Item:
    priority: int
    ready_at: datetime
    seq: int
    action: Callable = field(compare=False)
    args: tuple = field(compare=False, default=())


class Queue:
    """Items not ready yet wait in a heap by time; ready ones in a heap by urgency (both O(log n))."""

    def __init__(self):
        self.later: list[tuple[datetime, int, Item]] = []
        self.ready: list[Item] = []

    def push(self, item: Item) -> None:
        heapq.heappush(self.later, (item.ready_at, item.seq, item))

    def promote(self, now: datetime) -> None:
        while self.later and self.later[0][0] <= now:
            heapq.heappush(self.ready, heapq.heappop(self.later)[2])

    def next_ready_at(self) -> datetime | None:
        return self.later[0][0] if self.later else None


@dataclass
class Worker:
    user_id: int
    free_at: datetime
    busy_minutes: float = 0.0
    own: Queue = field(default_factory=Queue)  # items only this person may do (they hold the task)


class Pool:
    """One post's staff and its queue. ``action(worker, now, *args)`` does the work and returns its minutes."""

    def __init__(self, name: str, user_ids: list[int], clock: Clock, hours: WorkingHours, start: datetime):
        self.name = name
        self.clock = clock
        self.hours = hours
        self.workers = {uid: Worker(uid, start) for uid in user_ids}
        self.shared = Queue()
        self._seq = 0
        self._wakes: set[datetime] = set()
        self.done = 0

    def add(self, action: Callable, *args, ready_at: datetime, priority: int = 5, owner: int | None = None) -> None:
        self._seq += 1
        item = Item(priority, ready_at, self._seq, action, args)
        (self.workers[owner].own if owner in self.workers else self.shared).push(item)
        self._wake(max(ready_at, self.clock.now))

    def _queues(self):
        yield self.shared
        for worker in self.workers.values():
            yield worker.own

    def waiting(self, now: datetime) -> int:
        for queue in self._queues():
            queue.promote(now)
        return sum(len(queue.ready) for queue in self._queues())

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
        for queue in self._queues():
            queue.promote(now)  # what is left waiting in ``later`` becomes ready only after now
        pending = [at for at in (queue.next_ready_at() for queue in self._queues()) if at is not None]
        if pending:
            self._wake(min(pending))

    def _next(self, worker: Worker, now: datetime) -> Item | None:
        """The most urgent ready item of the person's own and the shared queue."""
        best = None
        for queue in (worker.own, self.shared):
            queue.promote(now)
            if queue.ready and (best is None or queue.ready[0] < best.ready[0]):
                best = queue
        return heapq.heappop(best.ready) if best is not None else None
