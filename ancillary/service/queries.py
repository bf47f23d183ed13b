"""Read side of service of process: who sees which orders and how much, and the KPIs."""

from __future__ import annotations

import enum

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ancillary.auth.models import Role, User
from ancillary.auth.policy import CaseLevel, case_view, paired_officer_ids
from ancillary.errors import Forbidden
from ancillary.service.models import ELECTRONIC, AttemptChannel, Layer, OrderStatus, ServiceOrder
from ancillary.spans import Spans


class OrderLevel(enum.StrEnum):
    full = "full"  # the recipient's contacts, addresses, every attempt and its evidence
    outcome = "outcome"  # served or not, when, and the ladder's position; no contact data


# Roles that may call the service-order endpoints at all (need-to-know decides the rest).
READERS = (Role.scheduler, Role.service_clerk, Role.follow_up, Role.judge, Role.enforcement_officer,
           Role.court_admin, Role.contractor_manager)
CASE_LEVEL_TO_ORDER = {
    CaseLevel.full: OrderLevel.full,
    CaseLevel.names: OrderLevel.outcome,
    CaseLevel.meta: OrderLevel.outcome,
}


def holds_task(user: User, order: ServiceOrder) -> bool:
    from ancillary.queues.models import TaskStatus

    task = order.task
    return task is not None and task.assignee_id == user.id and task.status in (TaskStatus.claimed, TaskStatus.done)


def order_level(session: Session, user: User, order: ServiceOrder) -> OrderLevel:
    """How much of ``order`` the caller sees; Forbidden when nothing.

    A service clerk sees an order in full only while holding (or having finished) its
    serve task — the recipient, never the rest of the case.
    """
    if user.role == Role.service_clerk:
        if holds_task(user, order):
            return OrderLevel.full
        raise Forbidden("not_your_order", "you do not hold the serve task of this order")
    if user.role not in READERS:
        raise Forbidden("no_service_access", "the {role} role sees no service orders", role=user.role.value)
    level = case_view(session, user, order.case).level
    if level not in CASE_LEVEL_TO_ORDER:
        raise Forbidden("no_service_access", "the {role} role sees no service orders", role=user.role.value)
    return CASE_LEVEL_TO_ORDER[level]


def visible_orders(session: Session, user: User, query: Select) -> Select:
    """Restrict ``select(ServiceOrder)`` to the orders ``user`` may list."""
    from ancillary.cases.models import Case
    from ancillary.queues.models import Task, TaskStatus

    role = user.role
    if role in (Role.court_admin, Role.scheduler, Role.contractor_manager):
        return query
    if role == Role.service_clerk:
        return query.join(Task, Task.id == ServiceOrder.task_id).where(
            Task.assignee_id == user.id, Task.status.in_([TaskStatus.claimed, TaskStatus.done]))
    if role in (Role.judge, Role.enforcement_officer):
        return query.join(Case, Case.id == ServiceOrder.case_id).where(Case.judge_id == user.id)
    if role == Role.follow_up:
        return query.join(Case, Case.id == ServiceOrder.case_id).where(
            Case.judge_id.in_(paired_officer_ids(session, user)))
    raise Forbidden("no_service_access", "the {role} role sees no service orders", role=role.value)


# --- KPIs ---------------------------------------------------------------------------------

LAYER_NAMES = {Layer.electronic: "electronic", Layer.direct: "direct", Layer.mail: "mail_and_posting",
               Layer.public_notice: "public_notice"}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = (len(values) - 1) * q
    low = int(index)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (index - low)


def service_kpis(session: Session, spans: Spans, settings) -> list[dict]:
    """Per span: service success overall and per layer, time from filing to service, electronic share.

    Over the orders opened in the span that are decided (served or exhausted):
    ``service_success_rate`` = served other than by public notice / decided;
    ``service_success_by_layer[L]`` = served in layer L / decided orders that reached L
    (an order climbs only, so it reached every layer up to the one it ended in);
    time to service in days from the case's filing to the legal service date.
    """
    from ancillary.cases.models import Case

    opened_here = (ServiceOrder.created_at >= spans.start, ServiceOrder.created_at < spans.end)
    rows = session.execute(
        select(ServiceOrder.status, ServiceOrder.layer, ServiceOrder.served_layer, ServiceOrder.served_channel,
               ServiceOrder.served_at, ServiceOrder.created_at, Case.filed_at)
        .join(Case, Case.id == ServiceOrder.case_id)
        .where(*opened_here))
    return [_service_figures(part) for part in spans.split(rows, lambda row: row.created_at)]


def _service_figures(opened: list) -> dict:
    """One span's service figures from the orders opened in it."""
    rows = [r for r in opened if r.status in (OrderStatus.served, OrderStatus.exhausted)]
    decided = len(rows)
    served = [r for r in rows if r.status == OrderStatus.served and r.served_channel != AttemptChannel.public_notice]
    reached = {layer: 0 for layer in LAYER_NAMES}
    served_in = {layer: 0 for layer in LAYER_NAMES}
    for row in rows:
        final = row.served_layer if row.status == OrderStatus.served else row.layer
        for layer in LAYER_NAMES:
            if layer <= final:
                reached[layer] += 1
        if row.status == OrderStatus.served and row.served_layer in served_in:
            served_in[Layer(row.served_layer)] += 1
    days = [(r.served_at - r.filed_at).total_seconds() / 86400 for r in rows if r.status == OrderStatus.served]
    electronic = sum(1 for r in served if r.served_channel in ELECTRONIC)
    return {
        "service_orders_opened": len(opened),
        "service_orders_decided": decided,
        "service_success_rate": _rate(len(served), decided),
        "service_success_by_layer": {LAYER_NAMES[layer]: _rate(served_in[layer], reached[layer])
                                     for layer in LAYER_NAMES},
        "service_time_to_serve_days_p50": _round(_percentile(days, 0.5)),
        "service_time_to_serve_days_p95": _round(_percentile(days, 0.95)),
        "service_electronic_share": _rate(electronic, len(served)),
        "rate_counts": {"service_success_rate": [len(served), decided],
                        **{f"service_success_by_layer.{LAYER_NAMES[layer]}": [served_in[layer], reached[layer]]
                           for layer in LAYER_NAMES}},
    }


def _rate(numerator: int, denominator: int) -> float | None:
    return None if not denominator else round(numerator / denominator, 4)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
