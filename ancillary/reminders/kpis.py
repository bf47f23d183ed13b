"""Reminder KPIs for GET /api/v1/reports/kpis: sent, delivered, failed, acknowledged,
median time to acknowledge and escalations, in total, per officer and per follow-up post.

Counted over action reminders (those that ask for acknowledgement and escalate) created
in the window.
"""

from __future__ import annotations

from statistics import median

from sqlalchemy import select

from ancillary.outbox import Notification, NotificationStatus
from ancillary.reminders.rules import ACTION_KINDS
from ancillary.spans import Spans

SENT = {NotificationStatus.sent, NotificationStatus.delivered, NotificationStatus.undelivered}
FAILED = {NotificationStatus.failed, NotificationStatus.undelivered}


def _figures(rows) -> dict:
    minutes = [(r.acked_at - r.sent_at).total_seconds() / 60 for r in rows if r.acked_at and r.sent_at]
    total = len(rows)
    acked = sum(1 for r in rows if r.acked_at)
    return {
        "reminders": total,
        "sent": sum(1 for r in rows if r.provider_id or r.status in SENT),
        "delivered": sum(1 for r in rows if r.status == NotificationStatus.delivered),
        "failed": sum(1 for r in rows if r.status in FAILED),
        "acknowledged": acked,
        "acknowledged_rate": (acked / total) if total else None,
        "ack_minutes_p50": round(median(minutes), 1) if minutes else None,
        "escalated": sum(1 for r in rows if r.escalation_level >= 1),
        "escalated_to_president": sum(1 for r in rows if r.escalation_level >= 2),
    }


def reminder_kpis(session, spans: Spans, settings) -> list[dict]:
    """Per span: the reminders created in it, in total, per officer and per follow-up post."""
    from ancillary.queues.models import FollowUpPairing, Post

    rows = session.execute(
        select(Notification.recipient_id, Notification.status, Notification.provider_id, Notification.sent_at,
               Notification.acked_at, Notification.escalation_level, Notification.created_at)
        .where(Notification.kind.in_(ACTION_KINDS), Notification.created_at >= spans.start,
               Notification.created_at < spans.end)
    ).all()
    posts: dict[int, list[int]] = {}
    for post_id, officer in session.execute(
        select(Post.id, FollowUpPairing.officer_id).join(FollowUpPairing, FollowUpPairing.post_id == Post.id)
        .order_by(Post.id, FollowUpPairing.officer_id)  # the same answer every time, on every database
    ):
        posts.setdefault(post_id, []).append(officer)
    return [_span_body(part, posts) for part in spans.split(rows, lambda row: row.created_at)]


def _span_body(rows, posts: dict[int, list[int]]) -> dict:
    by_officer: dict[int, list] = {}
    for row in rows:
        by_officer.setdefault(row.recipient_id, []).append(row)
    totals = _figures(rows)
    return {
        "reminders_sent": totals["sent"],
        "reminders_delivered": totals["delivered"],
        "reminders_failed": totals["failed"],
        "reminders_acknowledged": totals["acknowledged"],
        "reminders_acknowledged_rate": totals["acknowledged_rate"],
        "reminders_ack_minutes_p50": totals["ack_minutes_p50"],
        "reminders_escalated": totals["escalated"],
        "reminders_escalated_to_president": totals["escalated_to_president"],
        "reminders_by_officer": [{"officer_id": officer, **_figures(items)}
                                 for officer, items in sorted(by_officer.items(), key=lambda kv: kv[0] or 0)],
        "reminders_by_post": [
            {"post_id": post_id, "officer_ids": officers,
             **_figures([r for o in officers for r in by_officer.get(o, [])])}
            for post_id, officers in sorted(posts.items())
        ],
    }
