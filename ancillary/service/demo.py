"""The demo's service of process: orders at realistic places on the ladder."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.auth.models import Role, User
from ancillary.queues.models import TaskStatus
from ancillary.service.attempts import AttemptIn, record_attempt
from ancillary.service.jobs import sweep
from ancillary.service.models import ServiceOrder


def load_demo_service(session: Session, *, settings, now: datetime, rng) -> dict:
    """Put the demo's service orders at realistic places on the ladder (called by the demo)."""
    clerks = list(session.scalars(select(User).where(User.role == Role.service_clerk).order_by(User.id)))
    if not clerks:
        return {}
    orders = list(session.scalars(select(ServiceOrder).order_by(ServiceOrder.created_at)))
    served = 0
    for order in orders:
        task = order.task
        if task is None or task.status != TaskStatus.open:
            continue
        clerk = rng.choice(clerks)
        task.claim(session, clerk, now=order.created_at)
        if order.created_at < now - timedelta(days=5) and rng.random() < 0.6:
            at = order.created_at + timedelta(days=rng.uniform(1, 4))
            record_attempt(session, order, AttemptIn(channel="personal", outcome="served",
                                                     received_by=order.recipient.name, attempted_at=at,
                                                     skip_reason="当面送达"),
                           actor=clerk, now=at, settings=settings)
            served += 1
    session.flush()
    result = sweep(session, now, settings)
    return {"orders": len(orders), "served": served, **result}
