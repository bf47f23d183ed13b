"""The seed court's year replayed end to end: wall time, peak memory, the seed figures reached.

    .venv/bin/python bench/replay_year.py --db sqlite|postgresql [--months 12] [--start 2026-01-01] [--tail-days 45] [--volume 1.0] [--staff 42]

Runs ``ancillary replay`` (the same function) on a fresh database and prints wall time,
CPU time, peak resident memory and every figure with its target. Writes
bench/out/replay_year-<db>.json. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from common import fresh_database, write

from ancillary.replay.cli import replay_to
from ancillary.replay.court import STAFF, ReplaySettings, scale_staff
from ancillary.replay.run import progress_bar


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--volume", type=float, default=1.0)
    parser.add_argument("--staff", type=int)
    parser.add_argument("--seed", type=int, default=136)
    parser.add_argument("--tail-days", type=int, default=45, help="days the clock runs on after the last filing month")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1), help="first day, ISO date")
    args = parser.parse_args()
    url = fresh_database(args.db)
    out = Path(tempfile.mkdtemp(prefix="replay-bench-"))
    rs = ReplaySettings(seed=args.seed, start=args.start, months=args.months, tail_days=args.tail_days, volume=args.volume,
                        staff=scale_staff(args.staff) if args.staff else dict(STAFF))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    body = replay_to(out, rs, database_url=url, progress=progress_bar())
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "database": args.db, "start": args.start.isoformat(), "months": args.months,
        "tail_days": args.tail_days, "volume": args.volume, "staff": sum(rs.staff.values()),
        "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "peak_rss_mib": round(peak_mib, 1),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "figures": {name: {k: f[k] for k in ("value", "numerator", "denominator", "target", "met")}
                    for name, f in body["figures"].items()},
        "service_success_by_layer": body["kpis"].get("service_success_by_layer"),
        "staff_utilisation": {k: v["utilisation"] for k, v in body["staff"].items()},
        "report": str(out / "report.html"),
    }
    write(f"replay_year-{args.db}", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
