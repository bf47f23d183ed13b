"""Signing a custody checkpoint over one million events, and `custody verify` against it.

    .venv/bin/python bench/custody_checkpoint.py [--events 1000000] [--per-dossier 100]
    scripts/with-postgres.sh .venv/bin/python bench/custody_checkpoint.py    # adds PostgreSQL

Fills the database as bench/custody_verify.py does, then runs the real CLI in child
processes: `ancillary custody checkpoint` (Merkle root over every chain head, Ed25519
signature, appended to the log) and `ancillary custody verify` (the chains against that
checkpoint, link by link, holders). Writes bench/out/custody_checkpoint.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from custody_verify import BIN, ROOT, env_for, fill

KEY = "11" * 32


def run(url: str, folder: Path, *args: str) -> dict:
    env = {**env_for(url), "ANCILLARY_CUSTODY_SIGNING_KEY": KEY, "ANCILLARY_CUSTODY_CHECKPOINT_DIR": str(folder)}
    started = time.perf_counter()
    proc = subprocess.run([BIN / "ancillary", "custody", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    print("  " + (proc.stdout.strip() or proc.stderr.strip()[-300:]))
    return {"exit_code": proc.returncode, "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-dossier", type=int, default=100)
    args = parser.parse_args()
    results = {"events": args.events, "per_dossier": args.per_dossier, "databases": {}}
    tmp = Path(tempfile.mkdtemp(prefix="checkpoint-bench-"))
    targets = [("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", None)]
    server = os.environ.get("ANCILLARY_TEST_POSTGRES_URL")
    if server:
        from sqlalchemy import create_engine, text

        name = f"checkpoint_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        targets.append(("postgresql", f"{server}/{name}", (admin, name)))
    for label, url, cleanup in targets:
        print(f"==> {label}: filling {args.events:,} events ({args.per_dossier} per dossier)")
        fill(url, args.events, args.per_dossier)
        folder = tmp / f"checkpoints-{label}"
        print(f"==> {label}: ancillary custody checkpoint, then verify")
        outcome = {"checkpoint": run(url, folder, "checkpoint"), "verify": run(url, folder, "verify")}
        outcome["log_bytes"] = sum(p.stat().st_size for p in folder.iterdir())
        print(f"  {label}: checkpoint {outcome['checkpoint']['seconds']} s, verify {outcome['verify']['seconds']} s")
        results["databases"][label] = outcome
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "custody_checkpoint.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written to {out / 'custody_checkpoint.json'}")
    sys.exit(any(o["verify"]["exit_code"] or o["checkpoint"]["exit_code"] for o in results["databases"].values()))


if __name__ == "__main__":
    main()
