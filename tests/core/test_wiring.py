"""What is wired to what: every sweep, KPI provider and signal receiver, by name."""

from sqlalchemy import event
from sqlalchemy.orm import Session

from ancillary.audit import services as audit
from ancillary.outbox import status_changed
from ancillary.queues.services import case_closed
from ancillary.wiring import dotted, wiring_of


def test_the_sweeps_a_tick_runs_in_order(app):
    assert [dotted(fn) for fn in wiring_of(app).sweeps] == [
        "ancillary.archive.services.deadline_sweep",
        "ancillary.service.jobs.sweep",
        "ancillary.scheduling.jobs.sweep",
        "ancillary.reminders.jobs.sweep_reminders",
        "ancillary.reminders.jobs.sweep_escalations",
        "ancillary.custody.checkpoints.sweep",
        "ancillary.service.jobs.sweep_orphan_photos",
        "ancillary.archive.services.sweep_orphan_scans",
    ]


def test_the_kpi_providers_in_order(app):
    assert [dotted(fn) for fn in wiring_of(app).kpi_providers] == [
        "ancillary.reports.kpis.case_kpis",
        "ancillary.archive.services.archive_kpis",
        "ancillary.scheduling.kpis.scheduling_kpis",
        "ancillary.service.queries.service_kpis",
        "ancillary.reminders.kpis.reminder_kpis",
    ]


def test_who_hears_a_delivery_status_and_a_closing(app):
    assert sorted(dotted(fn) for fn in status_changed.receivers_for(object())) == [
        "ancillary.service.services.on_notification_status",
    ]
    assert sorted(dotted(fn) for fn in case_closed.receivers_for(object())) == [
        "ancillary.scheduling.services.on_case_closed",
        "ancillary.service.services.on_case_closed",
    ]


def test_a_tick_names_every_sweep_and_the_delivery(app):
    from ancillary.jobs import run_sweeps
    from tests.conftest import NOW

    names = [name for name, _ in run_sweeps(app, NOW)]
    assert names == [dotted(fn) for fn in wiring_of(app).sweeps] + ["ancillary.outbox.sender.deliver"]


def test_every_session_writes_its_new_audit_entries_in_one_statement_per_flush(app):
    assert event.contains(Session, "before_flush", audit._write_entries)
    assert event.contains(Session, "after_flush", audit._write_waiting)
