"""``/service``: the service clerk's orders on a phone, and one order's page to record attempts.

The pages call the service-order API with the browser's session, so the recipient and
contacts shown are exactly what the API shows this clerk. Attempts are queued on the
phone (IndexedDB) with a client id and sent when the network is there: each is recorded
once however often it is resent.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext

from ancillary.auth.models import Role
from ancillary.display_names import label
from ancillary.errors import DomainError
from ancillary.extensions import db
from ancillary.pages import page
from ancillary.service import attempts, queries, services
from ancillary.service.models import CHANNEL_LAYER, AttemptChannel
from ancillary.web import current_user, now

bp = Blueprint("service_pages", __name__)

CLERK_CHANNELS = ("phone", "sms", "email", "law_firm_email", "personal", "mail", "posting")
# Outcomes in the order a clerk most often picks them.
OUTCOME_ORDER = ("sent", "posted", "served", "no_answer", "refused", "delivered", "moved", "wrong_address", "failed",
                 "unclaimed")


def _words() -> dict:
    return {
        "channels": {c: label(c) for c in CLERK_CHANNELS},
        "outcomes": {
            "sent": gettext("sent"), "delivered": gettext("reached the recipient"), "served": gettext("served"),
            "failed": gettext("failed"), "no_answer": gettext("nobody answered"), "refused": gettext("refused"),
            "moved": gettext("moved away"), "wrong_address": gettext("wrong address or number"),
            "unclaimed": gettext("not collected"), "posted": gettext("notice posted"),
        },
        "statuses": {"pending": gettext("not started"), "in_progress": gettext("in progress"),
                     "served": gettext("served"), "exhausted": gettext("every layer failed"),
                     "withdrawn": gettext("withdrawn (case closed)")},
        "layers": {"0": gettext("address reuse"), "1": gettext("phone, SMS, e-mail"),
                   "2": gettext("direct service"), "3": gettext("postal mail and posting"),
                   "4": gettext("public notice")},
        "flags": {"no_gps": gettext("the photo has no position"), "no_time": gettext("the photo has no time"),
                  "far_from_address": gettext("taken far from the address"),
                  "older_than_limit": gettext("the photo is too old"),
                  "taken_after_attempt": gettext("the photo was taken after the attempt"),
                  "address_not_located": gettext("the address has no known position"),
                  "position_from_device": gettext("position from the phone")},
    }


def _rules() -> dict:
    """What the form needs to show only the fields that apply (the service's own tables)."""
    return {
        "outcomes": {c: [o for o in OUTCOME_ORDER if o in {x.value for x in attempts.CLERK_OUTCOMES[AttemptChannel(c)]}]
                     for c in CLERK_CHANNELS},
        "layer": {c: int(CHANNEL_LAYER[AttemptChannel(c)]) for c in CLERK_CHANNELS},
        "photo": sorted(c.value for c in attempts.PHOTO_CHANNELS if c.value in CLERK_CHANNELS),
        "address": ["personal", "mail", "posting"],
    }


def _texts() -> dict:
    return {
        "due": gettext("due"), "next": gettext("Next step"), "none": gettext("Nothing more to do."),
        "open": gettext("Open"), "layer": gettext("layer {n}"), "noOrders": gettext("No orders in your hands."),
        "queued": gettext("Saved on this phone: it is sent as soon as the network is back."),
        "sent": gettext("Recorded."), "refused": gettext("Not recorded:"),
        "waiting": gettext("Waiting on this phone to be sent"), "signIn": gettext("Sign in again to send them."),
        "locating": gettext("Finding the phone's position…"), "photoTaken": gettext("Photo ready"),
        "recorded": gettext("recorded"), "by": gettext("by"), "position": gettext("position"),
        "distance": gettext("metres from the address"), "network": gettext("The server cannot be reached."),
    }


@bp.get("/service")
@page(Role.service_clerk)
def orders():
    """My service orders, each with its next step and deadline."""
    return render_template("service_orders.html", words=_words(), texts=_texts())


@bp.get("/service/orders/<int:order_id>")
@page(Role.service_clerk)
def order(order_id: int):
    """One order: the recipient, the addresses with their sources, the attempts, and the attempt form."""
    try:
        found = services.get_order(db.session, order_id)
        queries.order_level(db.session, current_user(), found)
    except DomainError as error:
        reason = (gettext("There is no such service order.") if error.status == 404
                  else gettext("This order is not in your hands: claim its task on My work first."))
        return render_template("forbidden.html", reason=reason), error.status
    return render_template("service_order.html", order_id=order_id, words=_words(), rules=_rules(),
                           texts=_texts(), server_now=now().isoformat())
