"""Outbox delivery against the local Twilio stand-in, with real sender processes.

    scripts/with-postgres.sh .venv/bin/python bench/outbox_delivery.py [--messages 4000] [--senders 4]

Run 1: N due messages, S `ancillary send` processes at once (PostgreSQL, SKIP LOCKED),
through the real twilio SDK over HTTP: messages per second.
Run 2: the same, one sender killed (SIGKILL) a quarter of the way through, the others
finish, then a restart (`ancillary tick` past the claim timeout): duplicates at the
stand-in (must be 0), rows left undelivered, rows marked "outcome unknown".
Writes bench/out/outbox_delivery.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from common import fresh_database, make_app, settings_env, write

ANCILLARY = str(Path(sys.executable).parent / "ancillary")


def fill(app, count: int, tag: str) -> None:
    from sqlalchemy import insert

    from ancillary.extensions import db
    from ancillary.outbox import Notification
    from ancillary.timeutil import utcnow

    now = utcnow() - timedelta(minutes=1)
    rows = [{"idempotency_key": f"{tag}:{i}", "to_address": f"+86139{i % 10**8:08d}", "channel": "sms",
             "kind": "bench", "body": f"{tag} 提醒 {i}", "is_urgent": True, "needs_ack": False, "status": "pending",
             "not_before": now, "created_at": now, "attempts": 0, "escalation_level": 0} for i in range(count)]
    with app.app_context():
        db.session.execute(insert(Notification), rows)
        db.session.commit()


def sent_count(standin, tag):
    return sum(1 for m in standin.messages if m["body"].startswith(tag))


def senders(env, n):
    return [subprocess.Popen([ANCILLARY, "send", "--until-idle"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(n)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    args = parser.parse_args()
    from notifications.testing.twilio_standin import TwilioStandin

    url = fresh_database(args.db)
    app = make_app(url)
    with TwilioStandin() as standin:
        env = {**os.environ, **settings_env(url, ANCILLARY_SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID=standin.account_sid,
                                       TWILIO_AUTH_TOKEN=standin.auth_token, TWILIO_FROM_NUMBER="+8653100000001",
                                       TWILIO_API_BASE=standin.base_url, ANCILLARY_SMS_RATE="1000")}
        print(f"==> run 1: {args.messages} messages, {args.senders} senders ({args.db})")
        fill(app, args.messages, "r1")
        started = time.perf_counter()
        procs = senders(env, args.senders)
        while any(p.poll() is None for p in procs):
            time.sleep(0.2)
            print(f"\r    sent {sent_count(standin, 'r1')}/{args.messages}", end="", flush=True)
        seconds = time.perf_counter() - started
        print()
        rate = sent_count(standin, "r1") / seconds
        print(f"    {seconds:.1f} s (process start-up included): {rate:.0f} messages/s")

        print("==> run 2: kill one sender at 25%, finish, restart")
        fill(app, args.messages, "r2")
        procs = senders(env, args.senders)
        while sent_count(standin, "r2") < args.messages // 4:
            time.sleep(0.01)
        procs[0].kill()
        for proc in procs:
            proc.wait()
        from ancillary.timeutil import utcnow

        restart = subprocess.run([ANCILLARY, "tick", "--at", (utcnow() + timedelta(minutes=10)).isoformat()],
                                 env=env, capture_output=True, text=True)
        print("    restart:", restart.stdout.strip().splitlines()[-1] if restart.stdout else restart.stderr[-300:])
        bodies = Counter(m["body"] for m in standin.messages if m["body"].startswith("r2"))
        duplicates = sum(n - 1 for n in bodies.values() if n > 1)
        from sqlalchemy import func, select

        from ancillary.extensions import db
        from ancillary.outbox import Notification

        with app.app_context():
            by_status = dict(db.session.execute(
                select(Notification.status, func.count()).where(Notification.idempotency_key.like("r2:%"))
                .group_by(Notification.status)).all())
            unknown = db.session.scalar(select(func.count()).where(
                Notification.idempotency_key.like("r2:%"), Notification.last_error.like("outcome unknown%")))
            db.engine.dispose()
        print(f"    duplicates: {duplicates}; statuses: {by_status}; outcome unknown: {unknown}")
    write("outbox_delivery", {
        "database": args.db, "messages": args.messages, "senders": args.senders,
        "run1_seconds": round(seconds, 2), "run1_messages_per_second": round(rate, 1),
        "run2_duplicates_after_kill": duplicates,
        "run2_statuses": {k.value: v for k, v in by_status.items()},
        "run2_outcome_unknown": unknown,
        "run2_delivered_to_standin": sum(bodies.values()),
    })


if __name__ == "__main__":
    main()
