"""`ancillary custody verify` over one million events: seconds and peak memory, one walk
against dossier ranges at once, side by side.

    .venv/bin/python bench/custody_verify.py [--events 1000000] [--per-dossier 100] [--old] [--runs 1]
    scripts/with-postgres.sh .venv/bin/python bench/custody_verify.py    # adds PostgreSQL

Builds a database with the real schema (`ancillary db upgrade`), fills it with valid
chains (hashes computed exactly as the service does), then runs the real CLI in a
child process, as one walk (`--workers 1`) and then with its default (one range per core),
and reads each child's own peak resident memory. Beside them, in the same run: the floor
(SHA-256 alone over the same canonical payloads, in memory), the load average, and, with
--old, the verifier as it was before (tests/custody/reference_verify.py), also in a child
process. Writes bench/out/custody_verify.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

from common import postgres_database  # noqa: E402

_checkpoint_dirs: dict[str, str] = {}


def env_for(url: str) -> dict:
    # Each database gets its own, new checkpoint log: a log left by another database would name
    # every chain rewritten (rightly), and the verify would stop at the first.
    folder = _checkpoint_dirs.setdefault(url, tempfile.mkdtemp(prefix="bench-checkpoints-"))
    return {**os.environ, "ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench",
            "ANCILLARY_QR_KEYS": "K1:bench-secret-0123456789abcdef", "ANCILLARY_CUSTODY_CHECKPOINT_DIR": folder}


def fill(url: str, events: int, per_dossier: int) -> float:
    from sqlalchemy import create_engine, insert, text

    from ancillary.auth.models import User
    from ancillary.cases.models import Case, Dossier
    from ancillary.custody.models import GENESIS, CustodyEvent, CustodyHead, event_content, event_digest

    subprocess.run([BIN / "ancillary", "db", "upgrade"], env=env_for(url), check=True, capture_output=True)
    engine = create_engine(url)
    started = time.perf_counter()
    t0 = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)
    dossiers = events // per_dossier
    with engine.begin() as conn:
        conn.execute(insert(User), [{"id": i, "username": f"u{i}", "display_name": f"user {i}", "role": r,
                                     "is_active": True, "is_president": False, "created_at": t0}
                                    for i, r in ((1, "judge"), (2, "file_clerk"), (3, "archivist"))])
        conn.execute(insert(Case), [{"id": i, "number": f"(2027)bench{i}", "kind": "summary", "venue": "main",
                                     "filed_at": t0, "judge_id": 1, "volumes": 1, "status": "open",
                                     "deadline_at": t0 + timedelta(days=90), "mediation_likely": False,
                                     "created_by_id": 2, "created_at": t0} for i in range(1, dossiers + 1)])
        # Holder and location as the chain's last event leaves them (verify checks them).
        conn.execute(insert(Dossier), [{"id": i, "case_id": i, "volume": 1, "code": f"DS{i:07d}-01",
                                        "qr_token": f"tok{i}", "created_at": t0, "holder_id": 2 + per_dossier % 2,
                                        "location": "审判组 3楼"} for i in range(1, dossiers + 1)])
    batch, heads, done = [], [], 0
    with engine.begin() as conn:
        for d in range(1, dossiers + 1):
            prev = GENESIS
            for seq in range(1, per_dossier + 1):
                holder = 2 + seq % 2
                row = dict(dossier_id=d, seq=seq, action="receive", from_holder_id=None if seq == 1 else 5 - holder,
                           to_holder_id=holder, location="审判组 3楼", device_at=None,
                           server_at=t0 + timedelta(minutes=seq), actor_id=holder, client_scan_id=f"b{d}-{seq}",
                           details=None, conflict=False)
                row["prev_hash"] = prev
                row["hash"] = prev = event_digest(event_content(**row), prev)
                batch.append(row)
            heads.append({"dossier_id": d, "seq": per_dossier, "hash": prev,
                          "last_at": t0 + timedelta(minutes=per_dossier)})
            if len(batch) >= 20_000:
                conn.execute(insert(CustodyEvent), batch)
                done += len(batch)
                batch = []
                print(f"\r  filled {done:,}/{events:,} events", end="", flush=True)
        if batch:
            conn.execute(insert(CustodyEvent), batch)
        conn.execute(insert(CustodyHead), heads)
        # and each dossier's copy of its head, as scans keep it (verify checks the copy too)
        conn.execute(text("UPDATE dossiers SET head_seq = h.seq, head_hash = h.hash, head_last_at = h.last_at "
                          "FROM custody_heads h WHERE h.dossier_id = dossiers.id"))
    print()
    engine.dispose()
    return time.perf_counter() - started


def hash_floor(events: int) -> float:
    """Seconds SHA-256 alone takes over ``events`` canonical payloads like the bench's."""
    import hashlib
    import json

    from ancillary.custody.models import GENESIS

    payload = json.dumps({"content": {"dossier_id": 1234, "seq": 57, "action": "receive", "from_holder_id": 3,
                                      "to_holder_id": 2, "location": "审判组 3楼", "device_at": None,
                                      "server_at": "2027-01-04T01:57:00.000000Z", "actor_id": 2,
                                      "client_scan_id": "b1234-57", "details": None, "conflict": False},
                          "prev": GENESIS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    started = time.perf_counter()
    for _ in range(events):
        hashlib.sha256(payload).hexdigest()
    return time.perf_counter() - started


OLD = """
import sys, time
from ancillary import create_app
from ancillary.extensions import db
sys.path.insert(0, {root!r})
from tests.custody.reference_verify import verify_chains
app = create_app()
with app.app_context():
    result = verify_chains(db.session)
    print(f"old verifier: {{result.events_checked:,}} event(s), ok={{result.ok}}")
"""


def verify(url: str, old: bool = False, workers: int | None = None) -> dict:
    """Run the verifier in a child process: its seconds (as it reports them, and with process
    start), its own peak RSS (wait4), its output."""
    command = [BIN / "python", "-c", OLD.format(root=str(ROOT))] if old else [BIN / "ancillary", "custody", "verify"]
    if workers is not None:
        command += ["--workers", str(workers)]
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env_for(url), stdout=out, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().strip()
    print("  " + output)
    reported = re.search(r"checked in ([0-9.]+) s", output)
    return {"exit_code": os.waitstatus_to_exitcode(status), "process_seconds": round(seconds, 2),
            "seconds": float(reported.group(1)) if reported else None,
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),  # this process's; not the server's
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "load_before": round(load, 1), "output": output}


def compare(url: str, runs: int) -> dict:
    """One walk, then one range per core, ``runs`` times in turn; each figure's median."""
    rounds = {"serial": [], "parallel": []}
    for _ in range(runs):
        rounds["serial"].append(verify(url, workers=1))
        rounds["parallel"].append(verify(url))
    outcome = {}
    for mode, results in rounds.items():
        best = sorted(results, key=lambda r: r["process_seconds"])[len(results) // 2]
        outcome[mode] = {**best, "runs": [r["seconds"] for r in results]}
        print(f"  {mode}: {best['seconds']} s verify ({best['process_seconds']} s process, "
              f"{best['cpu_seconds']} s CPU in it), "
              f"peak RSS {best['peak_rss_mb']} MB, load {best['load_before']}")
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-dossier", type=int, default=100)
    parser.add_argument("--old", action="store_true", help="also time the verifier as it was before")
    parser.add_argument("--runs", type=int, default=1, help="runs of each mode, in turn (median reported)")
    args = parser.parse_args()
    floor = hash_floor(args.events)
    print(f"==> SHA-256 alone over {args.events:,} payloads: {floor:.2f} s")
    results = {"events": args.events, "per_dossier": args.per_dossier, "databases": {}, "cores": os.cpu_count(),
               "sha256_floor_seconds": round(floor, 2), "load_average": os.getloadavg()[0], "runs": args.runs}
    targets = []
    tmp = Path(tempfile.mkdtemp(prefix="verify-bench-"))
    targets.append(("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", None))
    if os.environ.get("ANCILLARY_TEST_POSTGRES_URL"):
        targets.append(("postgresql", *postgres_database("verify_bench")))
    for label, url, cleanup in targets:
        print(f"==> {label}: filling {args.events:,} events ({args.per_dossier} per dossier)")
        fill_seconds = fill(url, args.events, args.per_dossier)
        print(f"==> {label}: ancillary custody verify, one walk (--workers 1) and one range per core")
        outcome = compare(url, args.runs)
        outcome["fill_seconds"] = round(fill_seconds, 1)
        if args.old:
            print(f"==> {label}: the verifier as it was before")
            outcome["old"] = verify(url, old=True)
            print(f"  {label} (old): {outcome['old']['process_seconds']} s")
        results["databases"][label] = outcome
        if cleanup:
            cleanup()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "custody_verify.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written to {out / 'custody_verify.json'}")


if __name__ == "__main__":
    main()
