"""Replay a year of service of process for a court of the seed's size, through the services.

    .venv/bin/python bench/service_year.py [--cases 15000] [--proofs 200] [--database URL]

Files the cases the way intake does (cases.services.file_case, which opens the orders),
lets the service clerks claim the serve tasks, records what happens on the ladder with
outcome rates per layer modelled on the seed, delivers the SMS and e-mails through the
status listener, feeds carrier events, uploads posting photos, runs the escalation sweep
every day, then renders proof PDFs and reads the KPIs the reports show. Prints progress
and results; writes JSON to bench/out/service_year.json. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Outcome rates per layer (assumed, shaped on the seed: 42% success before, 88.2% after).
RATES = {
    "agreed_law_firm": 0.08,  # defendants represented by a firm that signed the e-service agreement
    "law_firm_delivered": 0.98,
    "phone_reached": 0.55,  # the clerk's call gets through
    "consent_when_reached": 0.45,  # ... and the party signs consent to electronic service
    "sms_delivered": 0.95,
    "personal_served": 0.38,  # per direct-service visit
    "personal_refused_witnessed": 0.05,
    "personal_moved": 0.07,
    "mail_signed": 0.50,
    "mail_unclaimed": 0.40,  # the rest come back wrong address / moved
}


def s10(rng: random.Random) -> str:
    from ancillary.service.carrier import s10_check_digit

    serial = f"{rng.randrange(10**8):08d}"
    return f"E{rng.choice('ABCDEFGHJK')}{serial}{s10_check_digit(serial)}CN"


def photo_bytes(lat: float, lon: float, taken: datetime, rng: random.Random) -> bytes:
    from PIL import ExifTags, Image

    def dms(value):
        d = int(value)
        m = int((value - d) * 60)
        return (float(d), float(m), round(((value - d) * 60 - m) * 60, 4))

    lat += rng.uniform(-0.0008, 0.0008)  # within about 90 m of the address
    lon += rng.uniform(-0.0008, 0.0008)
    image = Image.new("RGB", (320, 240), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    exif[ExifTags.IFD.Exif] = {36867: taken.strftime("%Y:%m:%d %H:%M:%S"), 36881: "+08:00"}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70, exif=exif.tobytes())
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=15000)
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database (default: a fresh SQLite file)")
    parser.add_argument("--seed", type=int, default=136)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "service_year.json"))
    args = parser.parse_args()

    from flask_migrate import upgrade

    from ancillary import create_app
    from ancillary.config import Settings

    workdir = Path(tempfile.mkdtemp(prefix="service-bench-"))
    url = args.database or f"sqlite:///{workdir / 'bench.sqlite3'}"
    settings = Settings.from_env({
        "ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench", "ANCILLARY_QR_KEYS": "K1:bench-key-0123456789",
        "ANCILLARY_STORAGE_DIR": str(workdir / "storage"),
    })
    app = create_app(settings)
    logging_off()
    with app.app_context():
        upgrade()
        result = replay(app, settings, args)
    result["database"] = url.split(":", 1)[0]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"\nwritten {out}")
    return 0


class UserCache:
    """Users by id, looked up in the current session (the replay empties it every day)."""

    def __init__(self, session):
        self.session = session

    def __getitem__(self, user_id):
        from ancillary.auth.models import User

        return self.session.get(User, user_id)


def logging_off():
    import logging

    logging.getLogger().setLevel(logging.WARNING)


def replay(app, settings, args) -> dict:
    from sqlalchemy import select

    from ancillary import demo
    from ancillary.auth.models import Role, User
    from ancillary.cases.models import LawFirm
    from ancillary.cases.services import CaseIn, PartyIn, file_case
    from ancillary.extensions import db
    from ancillary.outbox import Notification, NotificationStatus
    from ancillary.outbox import notify_status_change as on_status_change
    from ancillary.queues.services import claim
    from ancillary.service.attempts import AttemptIn, record_attempt
    from ancillary.service.carrier import CarrierEventIn
    from ancillary.service.jobs import sweep
    from ancillary.service.models import OrderStatus, ServiceOrder
    from ancillary.service.queries import service_kpis
    from ancillary.service.services import apply_carrier_event
    from ancillary.spans import Spans

    rng = random.Random(args.seed)
    session = db.session
    tz = settings.timezone
    year_start = datetime(2027, 1, 1, tzinfo=tz)
    demo.load_demo(session, settings=settings, now=year_start - timedelta(days=1), cases=0, seed=args.seed)
    session.commit()
    judges = list(session.scalars(select(User).where(User.role == Role.judge)))
    officers = list(session.scalars(select(User).where(User.role == Role.enforcement_officer)))
    intake = list(session.scalars(select(User).where(User.role == Role.intake_clerk)))
    clerks = list(session.scalars(select(User).where(User.role == Role.service_clerk)))
    firms = list(session.scalars(select(LawFirm)))
    agreed = [f.id for f in firms if f.e_service_agreement]
    users = UserCache(session)
    judges, officers, intake, clerks = ([u.id for u in group] for group in (judges, officers, intake, clerks))

    agenda: dict[int, list] = defaultdict(list)  # day index -> [(hour, action, order_id)]
    counts = defaultdict(int)
    timings = defaultdict(float)
    repeat: list[tuple[str, str, object]] = []
    per_day = args.cases / 365
    filed = 0
    serial = 0
    started = time.perf_counter()

    def at(day: int, hour: float) -> datetime:
        return year_start + timedelta(days=day, hours=hour)

    def attempt(order, now, **values):
        clerk = users[order.task.assignee_id]
        photo = values.pop("_photo", None)
        t0 = time.perf_counter()
        record_attempt(session, order, AttemptIn(**values), photo=photo, actor=clerk, now=now, settings=settings)
        timings["attempts"] += time.perf_counter() - t0
        counts["attempts"] += 1

    def deliver(order, channel: str, delivered: bool, now):
        notification_id = next(a.notification_id for a in reversed(order.attempts) if a.channel.value == channel)
        notification = session.get(Notification, notification_id)
        notification.status = NotificationStatus.delivered if delivered else NotificationStatus.undelivered
        notification.delivered_at = now if delivered else None
        on_status_change(session, notification, now)

    def act(action: str, order, day: int, now):
        if not order.is_open and action != "notice":
            return
        if action == "electronic":
            party = order.recipient
            if party.law_firm is not None and party.law_firm.e_service_agreement:
                attempt(order, now, channel="law_firm_email")
                deliver(order, "law_firm_email", rng.random() < RATES["law_firm_delivered"], now + timedelta(minutes=2))
                return
            reached = rng.random() < RATES["phone_reached"]
            consent = reached and rng.random() < RATES["consent_when_reached"]
            attempt(order, now, channel="phone", outcome="delivered" if reached else "no_answer",
                    duration_seconds=rng.randrange(20, 300) if reached else 0, consent=consent,
                    notes="当事人签署电子送达确认书" if consent else None)
            attempt(order, now + timedelta(minutes=5), channel="sms")
            deliver(order, "sms", rng.random() < RATES["sms_delivered"], now + timedelta(minutes=6))
        elif action == "direct" and order.layer == 2:
            roll = rng.random()
            visit = now
            if roll < RATES["personal_served"]:
                attempt(order, visit, channel="personal", outcome="served", received_by=order.recipient.name)
            elif roll < RATES["personal_served"] + RATES["personal_refused_witnessed"]:
                attempt(order, visit, channel="personal", outcome="refused", witness="社区网格员")
            else:
                outcome = "moved" if roll > 1 - RATES["personal_moved"] else "no_answer"
                attempt(order, visit, channel="personal", outcome=outcome)
                if order.status == OrderStatus.exhausted:
                    agenda[day + rng.randrange(2, 8)].append((9.0, "notice", order.id))
                elif order.is_open and order.layer == 2:
                    agenda[day + 2].append((15.0, "direct", order.id))
                elif order.is_open and order.layer == 3:
                    agenda[day + 1].append((10.0, "mail", order.id))
        elif action == "mail" and order.layer == 3 and order.posting_open_at is None:
            if order.mail_attempt() is not None and order.mail_attempt().outcome.value == "sent":
                return
            number = s10(rng)
            attempt(order, now, channel="mail", tracking_number=number)
            agenda[day + rng.randrange(3, 9)].append((16.0, "carrier", order.id))
        elif action == "carrier":
            mail = order.mail_attempt()
            roll = rng.random()
            code = "signed" if roll < RATES["mail_signed"] else (
                "unclaimed" if roll < RATES["mail_signed"] + RATES["mail_unclaimed"] else "wrong_address")
            t0 = time.perf_counter()
            apply_carrier_event(session, CarrierEventIn(tracking_number=mail.tracking_number, event_at=now,
                                                        code=code, signed_by=order.recipient.name if code == "signed"
                                                        else None), source="webhook", now=now, settings=settings)
            timings["carrier"] += time.perf_counter() - t0
            counts["carrier_events"] += 1
            if code == "unclaimed":
                agenda[day + rng.randrange(1, 4)].append((10.0, "posting", order.id))
            elif order.status == OrderStatus.exhausted:
                agenda[day + rng.randrange(2, 8)].append((9.0, "notice", order.id))
            elif order.is_open:
                agenda[day + 1].append((10.0, "mail", order.id))
        elif action == "posting" and order.posting_open_at is not None:
            address = next((a for a in order.addresses if a.failed_at is None), None)
            lat, lon = (address.latitude, address.longitude) if address and address.latitude else (37.5, 122.1)
            photo = photo_bytes(lat, lon, now - timedelta(minutes=5), rng)
            attempt(order, now, channel="posting", _photo=photo, address=address.text if address else None,
                    notes="张贴送达")
            counts["photos"] += 1
        elif action == "notice" and order.status == OrderStatus.exhausted:
            judge = users[order.case.judge_id]
            t0 = time.perf_counter()
            record_attempt(session, order, AttemptIn(channel="public_notice", notes="人民法院报公告"), actor=judge,
                           now=now, settings=settings)
            timings["attempts"] += time.perf_counter() - t0
            counts["attempts"] += 1

    days = 365 + 75  # a year of filings, then time for the last orders to be decided
    for day in range(days):
        now = at(day, 0.2)
        t0 = time.perf_counter()
        outcome = sweep(session, now, settings)
        timings["sweeps"] += time.perf_counter() - t0
        for key, value in outcome.items():
            counts[f"sweep_{key}"] += value
        # Sweep escalations: direct service opens after layer 1, mail after direct.
        for order in session.scalars(select(ServiceOrder).where(
                ServiceOrder.status == OrderStatus.exhausted, ServiceOrder.exhausted_at == now)):
            agenda[day + rng.randrange(2, 8)].append((9.0, "notice", order.id))
        for order in session.scalars(select(ServiceOrder).where(
                ServiceOrder.status == OrderStatus.in_progress, ServiceOrder.layer.in_([2, 3]),
                ServiceOrder.layer_entered_at >= now - timedelta(days=1), ServiceOrder.layer_entered_at < now)):
            if order.layer == 2 and not any(a.channel.value == "personal" for a in order.attempts):
                agenda[day].append((14.0, "direct", order.id))
            elif order.layer == 3 and order.mail_attempt() is None:
                agenda[day].append((10.0, "mail", order.id))
        if day < 365:
            target = round(per_day * (day + 1))
            while filed < min(target, args.cases):
                filed += 1
                serial += 1
                kind = rng.choices(list(demo.KIND_WEIGHTS), list(demo.KIND_WEIGHTS.values()))[0]
                filed_at = at(day, 8.5 + rng.random() * 8)
                officer = users[rng.choice(officers if kind == "enforcement" else judges)]
                if repeat and rng.random() < 0.15:
                    name, id_number, address = rng.choice(repeat)
                else:
                    name, id_number, address = demo._name(rng), demo._resident_id(rng), demo._address(rng)
                    repeat.append((name, id_number, address))
                firm = rng.choice(agreed) if rng.random() < RATES["agreed_law_firm"] else None
                defendants = [PartyIn(role="defendant", name=name, id_number=id_number, phones=[demo._phone(rng)],
                                      addresses=[address], law_firm_id=firm)]
                if rng.random() < 0.2:
                    defendants.append(PartyIn(role="defendant", name=demo._name(rng), id_number=demo._resident_id(rng),
                                              phones=[demo._phone(rng)], addresses=[demo._address(rng)]))
                t0 = time.perf_counter()
                case = file_case(session, CaseIn(
                    number=f"(2027)鲁1002{'执' if kind == 'enforcement' else '民初'}{serial}号", kind=kind,
                    venue="main", filed_at=filed_at, judge_id=officer.id, volumes=1, parties=[
                        PartyIn(role="plaintiff", name=demo._name(rng), id_number=demo._resident_id(rng),
                                phones=[demo._phone(rng)]), *defendants]),
                    actor=users[rng.choice(intake)], now=filed_at, settings=settings)
                timings["filing"] += time.perf_counter() - t0
                for order in session.scalars(select(ServiceOrder).where(ServiceOrder.case_id == case.id)):
                    claim(session, order.task_id, actor=users[rng.choice(clerks)], now=filed_at + timedelta(minutes=20))
                    agenda[day].append((filed_at.astimezone(tz).hour + 1.0, "electronic", order.id))
                    counts["orders"] += 1
        for hour, action, order_id in sorted(agenda.pop(day, []), key=lambda x: x[0]):
            act(action, session.get(ServiceOrder, order_id), day, at(day, hour))
        session.commit()
        session.expunge_all()  # a day's objects are done with; keep the unit of work small
        if day % 15 == 0 or day == days - 1:
            elapsed = time.perf_counter() - started
            print(f"\r  day {day + 1:3d}/{days}  cases {filed:6d}  orders {counts['orders']:6d}  "
                  f"attempts {counts['attempts']:6d}  {elapsed:7.1f} s", end="", flush=True)
    wall = time.perf_counter() - started
    print()

    kpis = service_kpis(session, Spans(((year_start, datetime(2028, 1, 1, tzinfo=tz)),)), settings)[0]
    status_counts = defaultdict(int)
    for status, in session.execute(select(ServiceOrder.status)):
        status_counts[status.value] += 1

    # Proof PDFs: half of them for postings (a photo embedded), half for other served orders.
    from ancillary.service.models import AttemptChannel
    from ancillary.service.proof import render_proof

    posted = select(ServiceOrder).where(ServiceOrder.served_channel == AttemptChannel.posting)
    others = select(ServiceOrder).where(ServiceOrder.status == OrderStatus.served,
                                        ServiceOrder.served_channel != AttemptChannel.posting)
    served = [*session.scalars(posted.order_by(ServiceOrder.id).limit(args.proofs // 2)),
              *session.scalars(others.order_by(ServiceOrder.id).limit(args.proofs - args.proofs // 2))]
    with_photo = sum(1 for o in served if o.served_channel == AttemptChannel.posting)
    names = {u.id: u.display_name for u in session.scalars(select(User))}
    t0 = time.perf_counter()
    sizes = []
    for order in served:
        sizes.append(len(render_proof(order, settings=settings, now=at(days, 9), users=names)))
    proof_seconds = time.perf_counter() - t0

    result = {
        "cases": filed,
        "orders": counts["orders"],
        "attempts": counts["attempts"],
        "carrier_events": counts["carrier_events"],
        "posting_photos": counts["photos"],
        "sweep": {k[6:]: v for k, v in counts.items() if k.startswith("sweep_")},
        "order_status": dict(status_counts),
        "wall_seconds": round(wall, 1),
        "seconds_in": {k: round(v, 1) for k, v in timings.items()},
        "proof_pdfs": len(sizes),
        "proof_pdfs_with_photo": with_photo,
        "proof_pdfs_per_second": round(len(sizes) / proof_seconds, 1) if sizes else None,
        "proof_pdf_mean_kib": round(sum(sizes) / len(sizes) / 1024, 1) if sizes else None,
        "kpis_2027": kpis,
        "rates_assumed": RATES,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    raise SystemExit(main())
