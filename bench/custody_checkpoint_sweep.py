"""The checkpoint sweep on a court's year of chains: reading only the moved chains against reading all.

    .venv/bin/python bench/custody_checkpoint_sweep.py [--chains 20000] [--moved 200] [--rounds 10]

Fills ``--chains`` custody chains (5 events each, as bench/custody_verify.py does), then,
each round, appends one event to ``--moved`` chains (a tick's worth of scans) and signs a
checkpoint twice, side by side in the same process: once as the sweep does (only the
chains that moved since the last checkpoint) and once after forgetting the kept leaves
(every chain head read and hashed, as before). Prints the CPU and wall time of each and
checks both signed the same root. Writes bench/out/custody_checkpoint_sweep.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import write
from custody_verify import fill
from sqlalchemy import insert, update

from ancillary import create_app
from ancillary.cases.models import Dossier
from ancillary.config import Settings
from ancillary.custody import checkpoint_tree
from ancillary.custody.checkpoint_sinks import sinks_for
from ancillary.custody.checkpoints import make_checkpoint
from ancillary.custody.models import CustodyEvent, CustodyHead, event_content, event_digest
from ancillary.extensions import db

KEY = bytes.fromhex("11" * 32)
T0 = datetime(2027, 2, 1, 1, 0, tzinfo=UTC)


def move(session, chains: int, moved: int, rng: random.Random, at: datetime) -> None:
    """One more event on ``moved`` chains, linked to each chain's head, as a scan appends it."""
    for dossier_id in sorted(rng.sample(range(1, chains + 1), moved)):
        head = session.get(CustodyHead, dossier_id)
        row = dict(dossier_id=dossier_id, seq=head.seq + 1, action="receive", from_holder_id=None, to_holder_id=2,
                   location="档案室", device_at=None, server_at=at, actor_id=2,
                   client_scan_id=f"m{dossier_id}-{head.seq + 1}", details=None, conflict=False)
        row["prev_hash"] = head.hash
        row["hash"] = event_digest(event_content(**row), head.hash)
        session.execute(insert(CustodyEvent), [row])
        session.execute(update(CustodyHead).where(CustodyHead.dossier_id == dossier_id)
                        .values(seq=row["seq"], hash=row["hash"], last_at=at))
        session.execute(update(Dossier).where(Dossier.id == dossier_id)
                        .values(head_seq=row["seq"], head_hash=row["hash"], head_last_at=at))
    session.commit()


def timed(sinks, at: datetime):
    wall, cpu = time.perf_counter(), time.process_time()
    payload = make_checkpoint(db.session, sinks, KEY, now=at)[0]
    return payload, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=20_000)
    parser.add_argument("--moved", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="checkpoint-sweep-"))
    url = f"sqlite:///{folder}/bench.sqlite3"
    fill(url, args.chains * 5, 5)
    settings = Settings.from_env({"ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench",
                                  "ANCILLARY_QR_KEYS": "B1:bench-signing-secret-0123456789",
                                  "ANCILLARY_STORAGE_DIR": str(folder / "storage")})
    rows, rng = [], random.Random(14)
    with create_app(settings).app_context():
        sinks = {name: sinks_for(dataclasses.replace(settings, custody_checkpoint_dir=folder / name,
                                                     custody_signing_key=KEY)) for name in ("moved", "all")}
        for place in sinks.values():
            make_checkpoint(db.session, place, KEY, now=T0)  # the first reads every head in both
        for round_ in range(1, args.rounds + 1):
            at = T0 + timedelta(hours=round_)
            move(db.session, args.chains, args.moved, rng, at)
            fast, fast_wall, fast_cpu = timed(sinks["moved"], at)
            checkpoint_tree.forget(str(sinks["all"][0].folder))
            full, full_wall, full_cpu = timed(sinks["all"], at)
            assert (fast["root"], fast["events"]) == (full["root"], full["events"]), "the two reads disagree"
            rows.append({"moved_cpu": fast_cpu, "moved_wall": fast_wall, "all_cpu": full_cpu, "all_wall": full_wall})
            print(f"  round {round_:2d}: only the moved chains {fast_cpu * 1000:7.1f} ms CPU ({fast_wall * 1000:7.1f} ms"
                  f" wall)   every chain {full_cpu * 1000:7.1f} ms CPU ({full_wall * 1000:7.1f} ms wall)")
        db.session.remove()
    mean = {key: round(sum(r[key] for r in rows) / len(rows) * 1000, 1) for key in rows[0]}
    result = {"chains": args.chains, "moved_per_round": args.moved, "rounds": args.rounds, "mean_ms": mean,
              "load_average": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(result))
    write("custody_checkpoint_sweep", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
