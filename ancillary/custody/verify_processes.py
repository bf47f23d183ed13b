"""Walk SQLite dossier ranges at once, each in a process of its own.

Python hashes every SQLite payload, so ranges in threads queue for one interpreter; in
processes they run on separate cores. Each range runs ``verify_walk.py`` in a fresh
interpreter (started anew, never forked from this one, which holds threads and
connections) without the application, whose import alone costs seconds on a busy machine.
The walker opens the database file read-only, reads in one read transaction (one
snapshot), tells the newest event id it sees, then its progress and its findings.

The snapshot caveat: each process has its own snapshot, taken when its walk starts. If
events were written between two of them, the ranges would not describe one moment; the
newest event id each range saw is compared, and when they differ (or a range met an event
only the reference functions can hash) the caller walks once instead, in this process.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from ancillary.custody.verify_walk import BadEvent, RangeResult

WALKER = Path(__file__).with_name("verify_walk.py")
POLL_SECONDS = 0.05


def sqlite_file(url) -> str | None:
    """The file of a SQLite database URL, as a read-only URI; None for memory or a URI already."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or url.query:
        return None
    return "file:" + quote(os.path.abspath(url.database)) + "?mode=ro"


class _Range:
    def __init__(self, index: int, task: dict):
        self.index, self.checked, self.newest, self.result, self.unsure = index, 0, None, None, False
        self.process = subprocess.Popen([sys.executable, "-I", str(WALKER)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.process.stdin.write(json.dumps(task) + "\n")
        self.process.stdin.close()

    def take(self, line: str) -> None:
        kind, _, value = line.partition(" ")
        value = json.loads(value)
        if kind == "checked":
            self.checked = value
        elif kind == "newest":
            self.newest = value
        elif kind == "unsure":
            self.unsure = True
        elif kind == "result":
            self.result = _result(value)
            self.checked = self.result.checked

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


def _result(value: dict) -> RangeResult:
    found = {kind: BadEvent(**value[kind]) if value[kind] else None for kind in ("bad", "orphan", "holder")}
    return RangeResult(value["checked"], **found)


def run_processes(database: str, tasks: list[dict], progress, every: int) -> list[RangeResult] | None:
    """Each task (``{"queries", "holders"}``) walked in a process; the results in range order,
    or None when the ranges saw different snapshots or one needs the reference functions.

    ``progress(n)`` is called here for each multiple of ``every`` the ranges have checked
    between them; if it raises, every range stops and it is raised."""
    ranges = [_Range(i, {**task, "database": database}) for i, task in enumerate(tasks)]
    try:
        _follow(ranges, progress, max(1, every))
    finally:
        for range_ in ranges:
            range_.stop()
    if any(r.unsure for r in ranges) or len({r.newest for r in ranges}) > 1:
        return None
    return [r.result if r.result is not None else RangeResult(r.checked) for r in ranges]


def _follow(ranges: list[_Range], progress, every: int) -> None:
    """Read every range's lines until all have ended; a range that finds a bad event stops those after it."""
    reported, first_bad = 0, len(ranges)
    with selectors.DefaultSelector() as selector:
        for range_ in ranges:
            selector.register(range_.process.stdout, selectors.EVENT_READ, range_)
        while selector.get_map():
            for key, _ in selector.select(POLL_SECONDS):
                range_ = key.data
                if range_.index > first_bad:  # stopped a moment ago, behind a bad range
                    continue
                line = range_.process.stdout.readline()
                if line:
                    range_.take(line)
                    continue
                selector.unregister(key.fileobj)
                _ended(range_, first_bad)
                if range_.result is not None and range_.result.bad is not None and range_.index < first_bad:
                    first_bad = range_.index
                    for later in ranges[first_bad + 1:]:
                        if later.process.stdout in selector.get_map():
                            selector.unregister(later.process.stdout)
                        later.stop()
            checked = sum(r.checked for r in ranges)
            while progress is not None and checked >= reported + every:
                reported += every
                progress(reported)


def _ended(range_: _Range, first_bad: int) -> None:
    """A range's output ended: it must have answered, unless it was stopped after an earlier bad one."""
    code = range_.process.wait()
    if range_.result is None and not range_.unsure and range_.index < first_bad:
        raise RuntimeError(f"custody verify range {range_.index} failed ({code}): {range_.process.stderr.read()}")
