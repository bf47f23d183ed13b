"""Sweeps: what one tick runs.

Every sweep is a function ``sweep(session, now, settings) -> dict`` of the database
and an instant; the leading scheduler (``ancillary.leader``, APScheduler inside) and
``ancillary tick --at`` call the same functions, each inside one transaction that the
wrapper commits. After the sweeps, the outbox sender delivers what is due at that
instant (it commits per message: a claim is committed before the provider is called).

Catching up: the scheduler's tick job coalesces missed runs within a one-hour
``misfire_grace_time``, and its first tick on taking the lead repeats the current
instant. A scheduler that was down for an hour ticks once when it comes back, not
twelve times; and since every rule stages its items under unique keys, that one late
tick sends exactly what the missed ticks would have sent, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from ancillary.extensions import db
from ancillary.outbox import channels_for, deliver_due
from ancillary.wiring import dotted, wiring_of

log = logging.getLogger(__name__)

# The sweeps a tick runs, in order, are listed in ``ancillary.wiring.SWEEPS``.
MISFIRE_GRACE_SECONDS = 3600
DELIVER = "ancillary.outbox.sender.deliver"


def run_sweeps(app, now: datetime, only: list[str] | None = None, *, deliver: bool = True,
               claim: Callable | None = None) -> list[tuple[str, dict]]:
    """Run every sweep as of ``now``, each in its own committed transaction, then deliver.

    ``claim(session, path, now)``, when given, runs first in the sweep's transaction and
    returns False to skip a sweep already done for this instant (see ancillary.leader).
    """
    results = []
    with app.app_context():
        settings = app.config["SETTINGS"]
        for sweep in wiring_of(app).sweeps:
            if only and sweep.__name__ not in only:
                continue
            try:
                if claim is not None and not claim(db.session, dotted(sweep), now):
                    db.session.rollback()
                    results.append((dotted(sweep), {"skipped": "already done for this instant"}))
                    continue
                outcome = sweep(db.session, now, settings) or {}
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("sweep %s failed at %s", dotted(sweep), now.isoformat())
                outcome = {"error": "failed; see the log"}
            results.append((dotted(sweep), outcome))
        if deliver:
            results.append((DELIVER, _deliver(app, now)))
        db.session.remove()
    return results


def _deliver(app, now: datetime) -> dict:
    try:
        return deliver_due(db.session, now, app.config["SETTINGS"], channels_for(app))
    except Exception:
        db.session.rollback()
        log.exception("outbox delivery failed at %s", now.isoformat())
        return {"error": "failed; see the log"}
