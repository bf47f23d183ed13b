"""``/scan``: the scan station for a handheld scanner or a phone camera, with the browser's session.

Receive and store record a custody event through ``POST /api/v1/scans``; a torn label's
printed code can be typed (marked so in the chain); "look up only" asks
``GET /api/v1/dossiers/lookup`` and records nothing.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext

from ancillary.custody.services import SCAN_ROLES
from ancillary.pages import page
from ancillary.web import now

bp = Blueprint("custody_pages", __name__)


def messages() -> dict[str, str]:
    """The texts the page's script shows, in the reader's language."""
    return {
        "received": gettext("Received: the dossier is now in your custody"),
        "stored": gettext("Stored"),
        "replayed": gettext("Already recorded (this scan was sent before): nothing changed"),
        "conflict": gettext("Recorded late, and it disagrees with the history: flagged for review"),
        "lookedUp": gettext("Looked up only: nothing was recorded"),
        "typed": gettext("Typed by hand"),
        "holder": gettext("Holder"), "location": gettext("Location"), "case_number": gettext("Case number"),
        "volume": gettext("Volume"), "chain_length": gettext("Chain length"), "error": gettext("Not recorded"),
        "notFound": gettext("Not found"),
        "network": gettext("The server cannot be reached; scan again when the connection is back"),
        "decoding": gettext("Reading the photo..."), "no_scans": gettext("No scans yet"),
        "queued": gettext("No connection: the scan is kept on this device and sent when the network returns"),
        "actions": {"receive": gettext("received"), "store": gettext("stored")},
    }


@bp.get("/scan")
@page(*SCAN_ROLES)
def scan_page():
    """The scan station: receive, store or look up by scanner, camera or typed code."""
    return render_template("scan.html", messages=messages(), server_now=now().isoformat())
