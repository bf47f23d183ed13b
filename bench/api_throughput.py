"""Cases filed per second through the API, and GET /api/v1/cases/{id} latency under
8 concurrent clients beside the trivial /healthz endpoint of the same server.

    python bench/api_throughput.py --db sqlite|postgresql [--cases 400] [--reads 400]

(`make bench` runs it on both databases.)
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime

from common import Progress, ancillary, database, env_for, gunicorn, percentiles, run_clients, write_json

CLIENTS = 8


def case_body(n: int, judge_id: int) -> dict:
    return {
        "number": f"(2027)鲁1002民初{n}号",
        "kind": random.choice(["speedy", "summary", "ordinary"]),
        "venue": "main",
        "filed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "judge_id": judge_id,
        "volumes": 2,
        "parties": [
            {"role": "plaintiff", "name": "张三", "id_number": "371002198001010010", "phones": ["13800000001"],
             "addresses": ["山东省威海市环翠区新威路1号"]},
            {"role": "defendant", "name": "李四", "phones": ["13900000002"],
             "addresses": [{"text": "山东省威海市环翠区统一路2号", "latitude": 37.51, "longitude": 122.12}]},
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--reads", type=int, default=400, help="reads per client")
    args = parser.parse_args()

    with database(args.db) as url, tempfile.TemporaryDirectory() as storage:
        env = env_for(url, storage)
        ancillary(env, "db", "upgrade")
        ancillary(env, "users", "add", "intake", "--role", "intake_clerk")
        ancillary(env, "users", "add", "judge", "--role", "judge")
        ancillary(env, "users", "add", "admin", "--role", "court_admin")
        intake_token = ancillary(env, "tokens", "issue", "intake").strip()
        judge_token = ancillary(env, "tokens", "issue", "judge").strip()
        judge_id = 2
        with gunicorn(env, workers=1 if args.db == "sqlite" else 2, threads=8) as base:
            print(f"{args.db}: filing {args.cases} cases with {CLIENTS} clients")
            progress = Progress("filed", args.cases)
            per_client = args.cases // CLIENTS
            headers = {"Authorization": f"Bearer {intake_token}"}

            def file_one(index, session, i):
                response = session.post(f"{base}/api/v1/cases", json=case_body(index * 100000 + i, judge_id),
                                        headers=headers)
                assert response.status_code == 201, response.text
                progress.step()
                return "file"

            started = time.perf_counter()
            filings = run_clients(CLIENTS, per_client, file_one)
            elapsed = time.perf_counter() - started
            filed = len(filings)
            case_ids = list(range(1, filed + 1))

            print(f"{args.db}: {CLIENTS} clients reading cases and /healthz")
            progress = Progress("requests", CLIENTS * args.reads)
            judge = {"Authorization": f"Bearer {judge_token}"}

            def read(index, session, i):
                progress.step()
                if i % 2:
                    response = session.get(f"{base}/healthz")
                    label = "healthz"
                else:
                    response = session.get(f"{base}/api/v1/cases/{random.choice(case_ids)}", headers=judge)
                    label = "case"
                assert response.status_code == 200, response.text
                return label

            reads = run_clients(CLIENTS, args.reads, read)

    case_lat = percentiles([s for label, s in reads if label == "case"])
    trivial = percentiles([s for label, s in reads if label == "healthz"])
    result = {
        "database": args.db,
        "clients": CLIENTS,
        "cases_filed": filed,
        "cases_per_second": round(filed / elapsed, 1),
        "filing": percentiles([s for _, s in filings]),
        "get_case": case_lat,
        "healthz": trivial,
        "ratio_p50": round(case_lat["p50_ms"] / trivial["p50_ms"], 2),
        "ratio_p99": round(case_lat["p99_ms"] / trivial["p99_ms"], 2),
    }
    print(f"\n{args.db}: {result['cases_per_second']} cases/s filed "
          f"(p50 {result['filing']['p50_ms']} ms, p99 {result['filing']['p99_ms']} ms)")
    print(f"{args.db}: GET /cases/{{id}} p50 {case_lat['p50_ms']} ms p99 {case_lat['p99_ms']} ms | "
          f"/healthz p50 {trivial['p50_ms']} ms p99 {trivial['p99_ms']} ms | "
          f"ratio p50 {result['ratio_p50']} p99 {result['ratio_p99']}")
    print("written to", write_json(f"api_throughput_{args.db}", result))


if __name__ == "__main__":
    main()
