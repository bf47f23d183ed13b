"""A sweep's new items, folded into their messages before anything is written.

``rules.stage`` writes items first and ``digests.fold`` then reads them back and links each
to its message: over a million open cases that is half a million rows written, read and
updated again. Here the items a sweep finds new (by key, as ``rules.stage`` decides) stay
in memory, are folded in the same order ``digests.fold`` folds them (recipient by
recipient, each digest's items in the order they were found), and are written once, with
their message already set: the same messages, items and audit entries as staging and
folding one after the other (``tests/reminders/test_sweep_marks.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary import foreign_keys
from ancillary.db import bulk_insert, bulk_insert_values
from ancillary.outbox import NotificationItem
from ancillary.reminders import digests, rules


class Fresh(NamedTuple):
    """An item no sweep staged before, with its case's number for the message text."""

    key: str
    rule: str
    digest: str
    recipient_id: int
    case_id: int | None
    object_type: str
    object_id: int | None
    due_at: datetime
    params: dict[str, Any]
    root_id: int | None
    number: str | None


def collect(session: Session, nodes: Iterable[rules.Node], settings, posts) -> list[Fresh]:
    """The items of ``nodes`` not staged before, each key once, in the order found."""
    fresh: list[Fresh] = []
    seen: set[str] = set()
    shared: dict[tuple, dict] = {}  # equal params, one dict: serialised once when written
    chunk: list[tuple] = []

    def flush(items):
        staged = rules.staged_keys(session, list({item[0] for item in items}))
        for key, node, recipient, digest in items:
            if key in staged or key in seen:
                continue
            seen.add(key)
            params = {**node.params, "officer_id": node.officer_id} if node.officer_id is not None else node.params
            with suppress(TypeError):  # a list among the values: keep this one as it is
                params = shared.setdefault(tuple(params.items()), params)
            fresh.append(Fresh(key, node.rule, digest, recipient, node.case_id, node.object_type, node.object_id,
                               node.due_at, params, node.root_id, node.case_number if node.case_id else None))

    for item in rules.item_keys(nodes, settings, posts):
        chunk.append(item)
        if len(chunk) >= rules.CHUNK:
            flush(chunk)
            chunk = []
    if chunk:
        flush(chunk)
    return fresh


def write(session: Session, fresh: list[Fresh], now: datetime, settings, kinds: list[str]) -> int:
    """Fold ``fresh`` (and anything staged before but not folded) into messages; return how many."""
    leftover = session.scalar(select(NotificationItem.id).where(
        NotificationItem.notification_id.is_(None), NotificationItem.digest.in_(kinds)).limit(1))
    if leftover is not None:  # fold behind what waits: stage, then fold as ``digests.fold`` does
        bulk_insert(session, NotificationItem.__table__, [_row(item, now, None) for item in fresh])
        return digests.fold(session, now, settings, kinds)
    by_recipient: dict[int, dict[str, list[Fresh]]] = {}
    for item in fresh:
        if item.digest in kinds:
            by_recipient.setdefault(item.recipient_id, {}).setdefault(item.digest, []).append(item)
    others = [item for item in fresh if item.digest not in kinds]
    bulk_insert(session, NotificationItem.__table__, [_row(item, now, None) for item in others])
    recipients = sorted(by_recipient)
    table = NotificationItem.__table__
    # a first sweep over a large court: the items are written last, their keys checked once
    held: list[dict] | None = [] if foreign_keys.worth_it(
        session, table.name, len(fresh), settings.sweep_bulk_check_rows) else None

    def link(session_, items_by_notification):
        if held is not None:
            held.append(items_by_notification)
        else:
            _write_linked(session_, [items_by_notification], now)

    made = digests.fold_groups(session, now, settings, recipients, ((r, by_recipient[r]) for r in recipients), link)
    if held:
        foreign_keys.write_checked_once(session, table.name, lambda: _write_linked(session, held, now))
    return made


# Rows per COPY when the held items are written at the end (a few tens of MB of lines at a time).
ROWS_PER_COPY = 50_000


def _write_linked(session: Session, batches: list[dict], now: datetime) -> None:
    """Write the items of ``batches`` ({message id: items}), each with its message, in the order folded."""
    rows: list[tuple] = []
    for items_by_notification in batches:
        rows += [(*item[:10], now, nid) for nid, items in items_by_notification.items() for item in items]
        if len(rows) >= ROWS_PER_COPY:
            bulk_insert_values(session, NotificationItem.__table__, COLUMNS, rows)
            rows = []
    bulk_insert_values(session, NotificationItem.__table__, COLUMNS, rows)


# The columns an item is written with: Fresh's first ten fields, then created_at and notification_id.
COLUMNS = [*Fresh._fields[:10], "created_at", "notification_id"]


def _row(item: Fresh, now: datetime, notification_id: int | None) -> dict:
    return {"key": item.key, "rule": item.rule, "digest": item.digest, "recipient_id": item.recipient_id,
            "case_id": item.case_id, "object_type": item.object_type, "object_id": item.object_id,
            "due_at": item.due_at, "params": item.params, "root_id": item.root_id, "created_at": now,
            "notification_id": notification_id}
