"""Signing a custody checkpoint over one million events, and `custody verify` against it.

    .venv/bin/python bench/custody_checkpoint.py [--events 1000000] [--per-dossier 100]
    scripts/with-postgres.sh .venv/bin/python bench/custody_checkpoint.py    # adds PostgreSQL

Fills the database as bench/custody_verify.py does, then runs the real CLI in child
processes, in this order, on the same data:

1. `custody verify` with no checkpoint yet — the reference: the hash chains and holders alone;
2. `custody checkpoint` into a local folder (Merkle root over every chain head, Ed25519), then
   `custody verify` against it;
3. the same with the object store too (moto's S3 server in this process, over HTTP):
   `custody checkpoint` writing both places, `custody verify` comparing both copies, and an
   auditor's `custody verify --from object-store --public-key HEX` with no signing key.

Writes bench/out/custody_checkpoint.json, with the load average beside the figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from custody_verify import BIN, ROOT, env_for, fill

KEY = "11" * 32
S3 = {"ANCILLARY_S3_ACCESS_KEY": "testing", "ANCILLARY_S3_SECRET_KEY": "testing", "ANCILLARY_S3_REGION": "us-east-1"}


def run(url: str, folder: Path, *args: str, extra: dict | None = None) -> dict:
    env = {**env_for(url), "ANCILLARY_CUSTODY_SIGNING_KEY": KEY, "ANCILLARY_CUSTODY_CHECKPOINT_DIR": str(folder),
           **(extra or {})}
    env = {name: value for name, value in env.items() if value is not None}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.run([BIN / "ancillary", "custody", *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    print(f"  {' '.join(args):<60} {seconds:7.1f} s  (load {load:.1f})  "
          + (proc.stdout.strip().splitlines() or [proc.stderr.strip()[-300:]])[-1][:100])
    inside = re.search(r"checked in ([0-9.]+) s", proc.stdout)  # verify's own time, process start excluded
    return {"exit_code": proc.returncode, "seconds": round(seconds, 2), "load_before": round(load, 1),
            **({"seconds_inside": float(inside.group(1))} if inside else {})}


def object_store(bucket: str) -> tuple[dict, callable]:
    """moto's S3 server with a new bucket (moto keeps one store per process: a bucket per database)."""
    import boto3
    from common import free_port
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    return {"ANCILLARY_STORAGE": "s3", "ANCILLARY_S3_ENDPOINT": endpoint, "ANCILLARY_S3_BUCKET": bucket, **S3}, server.stop


def measure(url: str, tmp: Path, label: str) -> dict:
    empty, local, both = tmp / f"none-{label}", tmp / f"local-{label}", tmp / f"both-{label}"
    outcome = {"reference_verify_without_checkpoint": run(url, empty, "verify"),
               "checkpoint": run(url, local, "checkpoint"), "verify": run(url, local, "verify")}
    outcome["log_bytes"] = sum(p.stat().st_size for p in local.iterdir())
    store, stop = object_store(f"checkpoints-{label}-{uuid.uuid4().hex[:6]}")
    try:
        outcome["checkpoint_with_object_store"] = run(url, both, "checkpoint", extra=store)
        outcome["verify_both_copies"] = run(url, both, "verify", extra=store)
        public = subprocess.run([BIN / "ancillary", "custody", "public-key"], capture_output=True, text=True,
                                env={**env_for(url), "ANCILLARY_CUSTODY_SIGNING_KEY": KEY}).stdout.strip()
        auditor = {**store, "ANCILLARY_CUSTODY_SIGNING_KEY": None}
        outcome["auditor_verify_object_store_public_key"] = run(
            url, tmp / "auditor-has-no-folder", "verify", "--from", "object-store", "--public-key", public,
            extra=auditor)
    finally:
        stop()
    return outcome


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
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_at_start": [round(x, 1) for x in os.getloadavg()]}
    for label, url, cleanup in targets:
        print(f"==> {label}: filling {args.events:,} events ({args.per_dossier} per dossier)")
        fill(url, args.events, args.per_dossier)
        print(f"==> {label}: verify without a checkpoint (reference), then checkpoint and verify")
        outcome = measure(url, tmp, label)
        results["databases"][label] = outcome
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "custody_checkpoint.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written to {out / 'custody_checkpoint.json'}")
    sys.exit(any(run["exit_code"] for o in results["databases"].values() for run in o.values() if isinstance(run, dict)))


if __name__ == "__main__":
    main()
