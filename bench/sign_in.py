"""Sign-in latency with the database-backed backoff on: 8 clients signing in as themselves
(argon2 check, backoff look-ups, token issue), then one client guessing passwords for an
account until the per-address backoff answers 429.

    python bench/sign_in.py --db sqlite|postgresql [--rounds 25]

(`make bench` runs it on both databases.)
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter

from common import Progress, ancillary, database, env_for, gunicorn, percentiles, run_clients, write_json

CLIENTS = 8
PASSWORD = "bench-harbour-lantern-7"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=25, help="sign-ins per client")
    args = parser.parse_args()

    with database(args.db) as url, tempfile.TemporaryDirectory() as storage:
        env = env_for(url, storage)
        ancillary(env, "db", "upgrade")
        for n in range(CLIENTS + 1):
            ancillary(env, "users", "add", f"clerk{n}", "--role", "file_clerk", "--password-stdin",
                      input=PASSWORD + "\n")
        with gunicorn(env, workers=1 if args.db == "sqlite" else 2, threads=8) as base:
            progress = Progress("sign-ins", CLIENTS * args.rounds)

            def sign_in(index, session, i):
                response = session.post(f"{base}/api/v1/auth/tokens",
                                        json={"username": f"clerk{index}", "password": PASSWORD})
                assert response.status_code == 201, response.text
                progress.step()
                return "ok"

            good = run_clients(CLIENTS, args.rounds, sign_in)
            statuses: Counter = Counter()

            def guess(index, session, i):
                response = session.post(f"{base}/api/v1/auth/tokens",
                                        json={"username": f"clerk{CLIENTS}", "password": f"guess-{i}"})
                statuses[response.status_code] += 1
                return str(response.status_code)

            bad = run_clients(1, 40, guess)

    result = {
        "database": args.db, "clients": CLIENTS,
        "sign_in": percentiles([s for _, s in good]),
        "failed_sign_in": percentiles([s for label, s in bad if label == "401"]),
        "refused_429": percentiles([s for label, s in bad if label == "429"]),
        "guess_statuses": dict(statuses),
    }
    print(f"\n{args.db}: sign-in p50 {result['sign_in']['p50_ms']} ms p99 {result['sign_in']['p99_ms']} ms "
          f"({CLIENTS} clients) | failed p50 {result['failed_sign_in'].get('p50_ms')} ms "
          f"p99 {result['failed_sign_in'].get('p99_ms')} ms | 429 p50 {result['refused_429'].get('p50_ms')} ms | "
          f"guesses: {dict(statuses)}")
    print("written to", write_json(f"sign_in_{args.db}", result))


if __name__ == "__main__":
    main()
