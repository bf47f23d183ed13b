"""Where a replayed month's SQL statements come from: statements per case, by the product function.

    .venv/bin/python bench/replay_statements.py [--seed 7] [--cases-per-year 3000] [--tail-days 15] [--top 40]

Runs a small month (``ancillary replay``'s own function, on a fresh SQLite file) with a
listener on every statement: each is charged to the innermost product function (outside
``ancillary/replay`` and the database plumbing) on the stack, and to the first replay
action above it. Prints statements per case and the callers issuing the most, with their
CPU share. Writes bench/out/replay_statements.json. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import write_json
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ancillary.replay.cli import replay_to
from ancillary.replay.court import ReplaySettings

ROOT = str(Path(__file__).resolve().parents[1] / "ancillary")
SKIP = ("/ancillary/db.py", "/ancillary/replay/", "/ancillary/extensions.py")


def caller() -> tuple[str, str]:
    """(innermost product function, the replay's action) of the statement being executed."""
    frame, product, action = sys._getframe(2), None, None
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(ROOT):
            name = f"{path[len(ROOT) + 1:-3].replace('/', '.')}.{frame.f_code.co_name}"
            if product is None and not any(s in path for s in SKIP):
                product = name
            if "/ancillary/replay/" in path and "actions" not in path and action is None:
                action = name
        frame = frame.f_back
    return product or "?", action or "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cases-per-year", type=int, default=3000)
    parser.add_argument("--tail-days", type=int, default=15)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    by_product: Counter = Counter()
    by_action: Counter = Counter()
    kinds: Counter = Counter()
    texts: Counter = Counter()

    @event.listens_for(Engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        product, action = caller()
        by_product[product] += 1
        by_action[action] += 1
        kinds[statement.split(None, 1)[0].upper()] += 1
        texts[(product, " ".join(statement.split())[:110])] += 1

    rs = ReplaySettings(seed=args.seed, months=1, cases_per_year=args.cases_per_year, tail_days=args.tail_days)
    cpu0 = time.process_time()
    body = replay_to(Path(tempfile.mkdtemp(prefix="replay-stmts-")), rs)
    cpu = time.process_time() - cpu0
    cases = body["figures"]["cases"]["value"]
    total = sum(kinds.values())
    print(f"cases {cases}  statements {total}  per case {total / cases:.1f}  CPU {cpu:.1f} s ({cpu / cases:.4f} s a case)")
    print("by kind:", dict(kinds.most_common()))
    print("\nby replay action (per case):")
    for name, n in by_action.most_common(args.top):
        print(f"  {n / cases:7.2f}  {name}")
    print("\nby product function (per case):")
    for name, n in by_product.most_common(args.top):
        print(f"  {n / cases:7.2f}  {name}")
    print("\nstatements (per case):")
    for (name, text), n in texts.most_common(args.top):
        print(f"  {n / cases:7.2f}  {name}: {text}")
    write_json("replay_statements", {"cases": cases, "statements": total, "cpu_seconds": round(cpu, 1),
                                "by_kind": dict(kinds), "by_action": dict(by_action.most_common()),
                                "by_product": dict(by_product.most_common())})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
