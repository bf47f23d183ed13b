"""Service of process in the replay: the clerk climbs the ladder, parties and the carrier answer.

Outcome rates are ``Rates`` (defaults from bench/service_year.py). A party's true
address is known to the world only: the clerk goes where the order's first usable
address says (an address confirmed in the person's other cases comes first when address
reuse is on), and a visit or a letter to an address the party has left fails.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import datetime, timedelta

from PIL import ExifTags, Image
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ancillary.outbox import Notification
from ancillary.replay import actions
from ancillary.service.addresses import usable_addresses
from ancillary.service.carrier import CarrierEventIn, s10_check_digit
from ancillary.service.models import OrderStatus, ServiceAttempt, ServiceOrder

DIRECT, MAIL = 2, 3
# What every clerk's action on an order reads (the case it checks, the task it finishes, the
# party it serves): one SELECT with the order instead of a lazy load each.
ORDER_WITH = (joinedload(ServiceOrder.case), joinedload(ServiceOrder.task), joinedload(ServiceOrder.recipient))


class Serving:
    def __init__(self, replay):
        self.r = replay
        self.draws: Counter = Counter()  # per order: how many of its own random draws were made
        self.queued: set[tuple[int, int]] = set()  # (order id, layer) already in a clerk's queue
        self.noticed: set[int] = set()

    def rng(self, order_id: int) -> random.Random:
        """The order's own random stream: one order's luck never moves another's."""
        self.draws[order_id] += 1
        return self.r.draw("service", order_id, self.draws[order_id])

    # --- the clerk's work -------------------------------------------------------------

    def first_contact(self, worker, now: datetime, task_id: int) -> float:
        """Claim the serve task, then layer 1: the law firm's e-mail, or a call and an SMS."""
        r, rates = self.r, self.r.rs.rates
        actor = r.user(worker.user_id)
        if r.call(actions.claim_task, task_id, actor=actor, now=now) is None:
            return r.rs.minutes.claim
        order = r.session.scalar(select(ServiceOrder).where(ServiceOrder.task_id == task_id).options(*ORDER_WITH))
        if order is None or not order.is_open:
            return r.rs.minutes.claim
        rng = self.rng(order.id)
        party = order.recipient
        if party.law_firm is not None and party.law_firm.e_service_agreement:
            self._attempt(order, actor, now, channel="law_firm_email")
            self._callback(order, "law_firm_email", rng.random() < rates.law_firm_delivered)
        else:
            reached = rng.random() < rates.phone_reached
            consent = reached and rng.random() < rates.consent_when_reached
            self._attempt(order, actor, now, channel="phone", outcome="delivered" if reached else "no_answer",
                          duration_seconds=rng.randrange(20, 300) if reached else 0, consent=consent,
                          notes="当事人签署电子送达确认书" if consent else None)
            self._attempt(order, actor, now, channel="sms")
            self._callback(order, "sms", rng.random() < rates.sms_delivered)
        r.counts["orders"] += 1
        if not r.rs.has("ladder-escalation"):
            r.pools["service_clerk"].add(self.review, order.id, ready_at=now + timedelta(days=r.rs.review_days),
                                         owner=worker.user_id, priority=2)
        return r.rs.minutes.electronic

    def review(self, worker, now: datetime, order_id: int) -> float:
        """Without the ladder's clock: the clerk notices a stalled electronic layer and goes in person."""
        order = self.r.session.get(ServiceOrder, order_id, options=ORDER_WITH)
        if order is None or not order.is_open or order.layer != 1:
            return 0.0
        return self.visit(worker, now, order_id, skip="电子送达未果，转直接送达")

    def visit(self, worker, now: datetime, order_id: int, skip: str | None = None) -> float:
        r, rates = self.r, self.r.rs.rates
        order = r.session.get(ServiceOrder, order_id, options=ORDER_WITH)
        if order is None or not order.is_open or order.layer not in ((1, DIRECT) if skip else (DIRECT,)):
            return 0.0
        rng = self.rng(order_id)
        actor = r.user(worker.user_id)
        usable = usable_addresses(order)
        if usable and usable[0].text != r.truth.get(order.recipient_party_id):
            self._attempt(order, actor, now, channel="personal", outcome="moved", skip_reason=skip)
        else:
            roll = rng.random()
            if roll < rates.personal_served:
                self._attempt(order, actor, now, channel="personal", outcome="served",
                              received_by=order.recipient.name, skip_reason=skip)
            elif roll < rates.personal_served + rates.personal_refused_witnessed:
                self._attempt(order, actor, now, channel="personal", outcome="refused", witness="社区网格员",
                              skip_reason=skip)
            else:
                outcome = "moved" if roll > 1 - rates.personal_moved else "no_answer"
                self._attempt(order, actor, now, channel="personal", outcome=outcome, skip_reason=skip)
        self.after(order, worker.user_id, now)
        return r.rs.minutes.visit

    def mail(self, worker, now: datetime, order_id: int) -> float:
        r = self.r
        order = r.session.get(ServiceOrder, order_id, options=ORDER_WITH)
        if order is None or not order.is_open or order.layer != MAIL or order.posting_open_at is not None:
            return 0.0
        last = order.mail_attempt()
        if last is not None and last.outcome.value == "sent":
            return 0.0
        rng = self.rng(order_id)
        serial = f"{rng.randrange(10**8):08d}"
        number = f"E{rng.choice('ABCDEFGHJK')}{serial}{s10_check_digit(serial)}CN"
        usable = usable_addresses(order)
        bad = bool(usable) and usable[0].text != r.truth.get(order.recipient_party_id)
        self._attempt(order, r.user(worker.user_id), now, channel="mail", tracking_number=number)
        r.clock.at(now + timedelta(days=rng.randint(3, 8)), self.carrier, order_id, number, bad)
        return r.rs.minutes.mail

    def posting(self, worker, now: datetime, order_id: int) -> float:
        r = self.r
        order = r.session.get(ServiceOrder, order_id, options=ORDER_WITH)
        if order is None or not order.is_open or order.posting_open_at is None:
            return 0.0
        usable = usable_addresses(order)
        address = usable[0] if usable else None
        lat, lon = (address.latitude, address.longitude) if address and address.latitude else (37.5, 122.1)
        photo = photo_bytes(lat, lon, now - timedelta(minutes=5), self.rng(order_id), r.tz)
        self._attempt(order, r.user(worker.user_id), now, channel="posting", notes="张贴送达",
                      address=address.text if address else None, _photo=photo)
        r.counts["postings"] += 1
        return r.rs.minutes.posting

    # --- the world's answers ------------------------------------------------------------

    def carrier(self, order_id: int, number: str, bad_address: bool) -> None:
        r, rates = self.r, self.r.rs.rates
        now = r.clock.now
        order = r.session.get(ServiceOrder, order_id, options=ORDER_WITH)
        if order is None or not order.is_open:
            return
        rng = self.rng(order_id)
        roll = rng.random()
        code = "wrong_address" if bad_address else "signed" if roll < rates.mail_signed else (
            "unclaimed" if roll < rates.mail_signed + rates.mail_unclaimed else "wrong_address")
        r.call(actions.carrier_event, CarrierEventIn(tracking_number=number, event_at=now, code=code,
                                                     signed_by=order.recipient.name if code == "signed" else None),
               now=now, settings=r.settings)
        r.commit()
        order = r.session.get(ServiceOrder, order_id, options=ORDER_WITH)
        owner = order.task.assignee_id if order.task is not None else None
        if code == "unclaimed" and order.is_open:
            r.pools["service_clerk"].add(self.posting, order_id, ready_at=now + timedelta(days=rng.randint(1, 3)),
                                         owner=owner, priority=1)
        else:
            self.after(order, owner, now)

    def callback(self, notification_id: int, delivered: bool) -> None:
        r = self.r
        notification = r.session.get(Notification, notification_id)
        if notification is None:
            return
        if notification.provider_id is None:  # not handed to the provider yet: it answers after the next tick
            r.clock.at(r.after_next_tick(r.clock.now), self.callback, notification_id, delivered)
            return
        r.call(actions.provider_status, notification=notification, status="delivered" if delivered else "undelivered",
               now=r.clock.now)
        r.commit()

    def after(self, order, owner: int | None, now: datetime) -> None:
        """Queue what the order needs next, as its clerk sees it on the order's page."""
        r = self.r
        if order.status == OrderStatus.exhausted:
            self._notice_later(order, now)
        elif order.is_open and order.layer == DIRECT:
            self._queue(order, owner, self.visit, now + timedelta(days=r.rs.revisit_days), DIRECT, force=True)
        elif order.is_open and order.layer == MAIL and order.posting_open_at is None:
            self._queue(order, owner, self.mail, now + timedelta(days=1), MAIL, force=True)

    def after_tick(self, now: datetime) -> None:
        """What the sweep moved: visits for orders now in direct service, letters, public notices."""
        r = self.r
        rows = r.session.execute(
            select(ServiceOrder.id, ServiceOrder.layer, ServiceOrder.status, ServiceOrder.task_id)
            .where(ServiceOrder.status.in_([OrderStatus.in_progress, OrderStatus.exhausted]),
                   ServiceOrder.layer.in_([DIRECT, MAIL, 4])).order_by(ServiceOrder.id)).all()
        for order_id, layer, status, _ in rows:
            if status == OrderStatus.exhausted:
                if order_id not in self.noticed:
                    self._notice_later(r.session.get(ServiceOrder, order_id, options=ORDER_WITH), now)
            elif (order_id, layer) not in self.queued:
                order = r.session.get(ServiceOrder, order_id, options=ORDER_WITH)
                owner = order.task.assignee_id if order.task is not None else None
                self._queue(order, owner, self.visit if layer == DIRECT else self.mail, now, layer)

    def _queue(self, order, owner, action, ready_at: datetime, layer: int, force: bool = False) -> None:
        if (order.id, layer) in self.queued and not force:
            return
        self.queued.add((order.id, layer))
        self.r.pools["service_clerk"].add(action, order.id, ready_at=ready_at, owner=owner, priority=1)

    def _notice_later(self, order, now: datetime) -> None:
        if order.id in self.noticed:
            return
        self.noticed.add(order.id)
        low, high = self.r.rs.notice_days
        self.r.clock.at(now + timedelta(days=self.rng(order.id).randint(low, high)), self.public_notice, order.id)

    def public_notice(self, order_id: int) -> None:
        r = self.r
        order = r.session.get(ServiceOrder, order_id, options=ORDER_WITH)
        if order is None or order.status != OrderStatus.exhausted:
            return
        r.call(actions.attempt, order, actions.AttemptIn(channel="public_notice", notes="人民法院报公告"),
               actor=r.user(order.case.judge_id), now=r.clock.now, settings=r.settings)
        r.commit()

    def _attempt(self, order, actor, now: datetime, **values) -> ServiceAttempt | None:
        photo = values.pop("_photo", None)
        done = self.r.call(actions.attempt, order, actions.AttemptIn(**values), actor=actor, now=now,
                           settings=self.r.settings, photo=photo)
        self.r.counts["attempts"] += done is not None
        return done

    def _callback(self, order, channel: str, delivered: bool) -> None:
        sent = next((a for a in reversed(order.attempts) if a.channel.value == channel and a.notification_id), None)
        if sent is not None:
            self.r.clock.at(self.r.after_next_tick(self.r.clock.now), self.callback, sent.notification_id, delivered)


def photo_bytes(lat: float, lon: float, taken: datetime, rng, tz) -> bytes:
    """A JPEG whose EXIF places it within about 90 m of the address, taken minutes ago (local time)."""
    def dms(value):
        d = int(value)
        m = int((value - d) * 60)
        return (float(d), float(m), round(((value - d) * 60 - m) * 60, 4))

    lat += rng.uniform(-0.0008, 0.0008)
    lon += rng.uniform(-0.0008, 0.0008)
    image = Image.new("RGB", (160, 120), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    local = taken.astimezone(tz)
    exif[ExifTags.IFD.Exif] = {36867: local.strftime("%Y:%m:%d %H:%M:%S"), 36881: "+08:00"}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70, exif=exif.tobytes())
    return out.getvalue()
