"""Sign-in latency with the database-backed backoff on: 8 clients signing in as themselves
(argon2 check, backoff look-ups, token issue), then one client guessing passwords for an
account until the per-address backoff answers 429.

References in the same run, on the same server: the same 8 clients reading GET /api/v1/me with
the tokens they got (an authenticated request with no password check), and one argon2 verify
of the stored hash in this process — so the sign-in figure can be read against both.

    python bench/sign_in.py --db sqlite|postgresql [--rounds 25]

(`make bench` runs it on both databases.)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter

from common import Progress, ancillary, database, env_for, gunicorn, percentiles, run_clients, write_json

CLIENTS = 8
PASSWORD = "bench-harbour-lantern-7"


def argon2_alone() -> dict:
    """One argon2 verify with the app's hasher (its parameters), timed 10 times in this process."""
    from ancillary.auth.services import _hasher

    stored = _hasher.hash(PASSWORD)
    times = []
    for _ in range(10):
        started = time.perf_counter()
        _hasher.verify(stored, PASSWORD)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 1), "max_ms": round(times[-1], 1)}


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

            tokens: dict[int, str] = {}

            def sign_in_keep(index, session, i):
                response = session.post(f"{base}/api/v1/auth/tokens",
                                        json={"username": f"clerk{index}", "password": PASSWORD})
                assert response.status_code == 201, response.text
                tokens[index] = response.json()["token"]
                progress.step()
                return "ok"

            load_before = os.getloadavg()[0]
            good = run_clients(CLIENTS, args.rounds, sign_in_keep)

            def me(index, session, i):
                response = session.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {tokens[index]}"})
                assert response.status_code == 200, response.text
                return "ok"

            reference = run_clients(CLIENTS, args.rounds, me)
            argon2_ms = argon2_alone()
            statuses: Counter = Counter()

            def guess(index, session, i):
                response = session.post(f"{base}/api/v1/auth/tokens",
                                        json={"username": f"clerk{CLIENTS}", "password": f"guess-{i}"})
                statuses[response.status_code] += 1
                return str(response.status_code)

            bad = run_clients(1, 40, guess)

    result = {
        "database": args.db, "clients": CLIENTS,
        "load_average_before": round(load_before, 1), "load_average_after": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        "sign_in": percentiles([s for _, s in good]),
        "reference_get_me": percentiles([s for _, s in reference]),
        "reference_argon2_verify_alone_ms": argon2_ms,
        "failed_sign_in": percentiles([s for label, s in bad if label == "401"]),
        "refused_429": percentiles([s for label, s in bad if label == "429"]),
        "guess_statuses": dict(statuses),
    }
    print(f"\n{args.db}: sign-in p50 {result['sign_in']['p50_ms']} ms p99 {result['sign_in']['p99_ms']} ms "
          f"({CLIENTS} clients) | failed p50 {result['failed_sign_in'].get('p50_ms')} ms "
          f"p99 {result['failed_sign_in'].get('p99_ms')} ms | 429 p50 {result['refused_429'].get('p50_ms')} ms | "
          f"guesses: {dict(statuses)}")
    print(f"reference: GET /api/v1/me p50 {result['reference_get_me']['p50_ms']} ms "
          f"p99 {result['reference_get_me']['p99_ms']} ms; argon2 verify alone {argon2_ms} ms; "
          f"load {result['load_average_before']} -> {result['load_average_after']} on {os.cpu_count()} CPUs")
    print("written to", write_json(f"sign_in_{args.db}", result))


if __name__ == "__main__":
    main()
