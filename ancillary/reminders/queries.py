"""Read side: whose notifications a caller may see, and the follow-up posts' queues.

Need-to-know for notifications (see docs/reminders.md):

- everyone sees their own notifications in full and may acknowledge only those;
- ``court_admin`` (the management office) sees every notification in full;
- ``follow_up`` also sees the notifications sent to the officers paired with their post
  (reminder texts name case numbers and nodes, never parties);
- ``contractor_manager`` sees delivery metadata of every notification (who, kind, status,
  times) but neither the body nor the address of others' messages: a service SMS to a
  party names the party and the case;
- every other role sees only its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ancillary.auth.models import Role, User
from ancillary.auth.policy import paired_officer_ids
from ancillary.errors import Forbidden, NotFound
from ancillary.outbox import Notification, NotificationItem
from ancillary.reminders import rules

FULL_READERS = frozenset({Role.court_admin})
METADATA_READERS = frozenset({Role.contractor_manager})


def visible_notifications(session: Session, user: User, query: Select) -> Select:
    if user.role in FULL_READERS or user.role in METADATA_READERS:
        return query
    if user.role == Role.follow_up:
        return query.where(Notification.recipient_id.in_([user.id, *paired_officer_ids(session, user)]))
    return query.where(Notification.recipient_id == user.id)


def project(user: User, notification: Notification) -> dict:
    """A notification shaped for ``user``."""
    full = notification.recipient_id == user.id or user.role in FULL_READERS or user.role == Role.follow_up
    return {
        "id": notification.id,
        "recipient_id": notification.recipient_id,
        "channel": notification.channel,
        "kind": notification.kind,
        "body": notification.body if full else None,
        "to_address": notification.to_address if (notification.recipient_id == user.id
                                                  or user.role in FULL_READERS) else None,
        "status": notification.status,
        "case_id": notification.case_id,
        "needs_ack": notification.needs_ack,
        "ack_code": notification.ack_code if notification.recipient_id == user.id else None,
        "created_at": notification.created_at,
        "not_before": notification.not_before,
        "sent_at": notification.sent_at,
        "delivered_at": notification.delivered_at,
        "acked_at": notification.acked_at,
        "escalation_level": notification.escalation_level,
        "resolved_at": notification.resolved_at,
        "attempts": notification.attempts,
        "last_error": notification.last_error if full else None,
    }


# --- follow-up posts' queues ---------------------------------------------------------------


def get_post(session: Session, post_id: int):
    from ancillary.queues.models import Post

    post = session.get(Post, post_id)
    if post is None or post.kind != "follow_up":
        raise NotFound("post_not_found", "there is no such follow-up post: reload the list and choose again",
                       field="post_id", id=post_id)
    return post


def check_post_reader(user: User, post) -> None:
    if user.role in (Role.court_admin, Role.contractor_manager):
        return
    if user.role == Role.follow_up and post.user_id == user.id:
        return
    raise Forbidden("not_your_post", "this follow-up post is not yours", id=post.id)


def post_queue(session: Session, post, now: datetime, settings, *, officer_id: int | None = None,
               horizon_days: int = 7) -> list[dict]:
    """Due-soon and overdue nodes of the post's officers, overdue first, then by due time."""
    officers = [p.officer_id for p in post.pairings]
    if officer_id is not None:
        if officer_id not in officers:
            raise Forbidden("not_paired", "this officer is not paired with your post: choose one of your officers",
                            field="officer_id")
        officers = [officer_id]
    since = now - timedelta(days=max(settings.sweep_lookback_days, 90))
    until = now + timedelta(days=horizon_days)
    nodes = list(rules.case_nodes(session, settings, since, until, officers))
    nodes += list(rules.deadline_nodes(session, settings, since, until, officers))
    reminded = {}
    case_ids = {n.case_id for n in nodes}
    if case_ids:
        for case_id, rule, at in session.execute(
            select(NotificationItem.case_id, NotificationItem.rule, NotificationItem.created_at)
            .where(NotificationItem.case_id.in_(case_ids), NotificationItem.notification_id.is_not(None))
        ):
            key = (case_id, rule)
            reminded[key] = max(reminded.get(key, at), at)
    out = [
        {
            "officer_id": n.officer_id,
            "case_id": n.case_id,
            "case_number": n.case_number,
            "node": n.rule,
            "due_at": n.due_at,
            "state": "overdue" if n.due_at < now else "due_soon",
            "last_reminded_at": reminded.get((n.case_id, n.rule)),
            "params": n.params,
        }
        for n in nodes
    ]
    out.sort(key=lambda r: (r["state"] != "overdue", r["due_at"], r["case_id"]))
    return out
