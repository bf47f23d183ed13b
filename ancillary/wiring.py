"""What reacts to what, written out in one place.

Contexts do not name each other in strings resolved at run time. A lower context sends a
signal (blinker, as Flask itself uses) or offers a function, and the wiring below, run by
``create_app``, connects the higher contexts to it. A rename breaks at import, not at 3 a.m.

- ``SWEEPS``: what every tick runs, in this order (``ancillary.jobs.run_sweeps``);
- ``KPI_PROVIDERS``: who contributes figures to ``GET /api/v1/reports/kpis`` (and the dashboard and
  the replay's report, through ``reports.kpis.collect``), merged in order;
- ``RECEIVERS``: who hears a notification's delivery status change and a case's closing;
- ``ancillary.storage.install``: stored files follow their session's commit or rollback;
- ``ancillary.audit.services.install``: each flush writes its new audit entries in one statement.

``tests/core/test_wiring.py`` lists what is wired.
"""

from __future__ import annotations

from dataclasses import dataclass

from ancillary import storage
from ancillary.archive.services import archive_kpis, deadline_sweep, sweep_orphan_scans
from ancillary.audit import services as audit
from ancillary.custody import checkpoints
from ancillary.outbox import status_changed
from ancillary.queues.services import case_closed
from ancillary.reminders.jobs import sweep_escalations, sweep_reminders
from ancillary.reminders.kpis import reminder_kpis
from ancillary.reports.kpis import case_kpis
from ancillary.scheduling import jobs as scheduling_jobs
from ancillary.scheduling import services as scheduling
from ancillary.scheduling.kpis import scheduling_kpis
from ancillary.service import jobs as service_jobs
from ancillary.service import services as service
from ancillary.service.queries import service_kpis

KEY = "ancillary.wiring"

SWEEPS = (deadline_sweep, service_jobs.sweep, scheduling_jobs.sweep, sweep_reminders, sweep_escalations,
          checkpoints.sweep, service_jobs.sweep_orphan_photos, sweep_orphan_scans)
KPI_PROVIDERS = (case_kpis, archive_kpis, scheduling_kpis, service_kpis, reminder_kpis)
RECEIVERS = (
    (status_changed, service.on_notification_status),
    (case_closed, service.on_case_closed),
    (case_closed, scheduling.on_case_closed),
)


@dataclass(frozen=True)
class Wiring:
    sweeps: tuple
    kpi_providers: tuple


def wire(app) -> Wiring:
    """Connect the receivers (once: blinker ignores a second connect) and give the app its lists."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, weak=False)
    storage.install()
    audit.install()
    wiring = app.extensions[KEY] = Wiring(sweeps=SWEEPS, kpi_providers=KPI_PROVIDERS)
    return wiring


def wiring_of(app) -> Wiring:
    return app.extensions[KEY]


def dotted(fn) -> str:
    """A function's dotted name, as the tick prints it."""
    return f"{fn.__module__}.{fn.__qualname__}"
