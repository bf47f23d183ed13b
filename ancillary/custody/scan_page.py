"""The scan station page (/scan): a browser front for handheld scanners and phone cameras."""

from __future__ import annotations

from flask import render_template
from flask_babel import get_locale, gettext

from ancillary.web import public


def messages() -> dict[str, str]:
    """The texts the page's script shows, in the reader's language."""
    return {
        "received": gettext("Received: the dossier is now in your custody"),
        "stored": gettext("Stored"),
        "replayed": gettext("Already recorded (this scan was sent before): nothing changed"),
        "conflict": gettext("Recorded late, and it disagrees with the history: flagged for review"),
        "holder": gettext("Holder"),
        "location": gettext("Location"),
        "case_number": gettext("Case number"),
        "volume": gettext("Volume"),
        "chain_length": gettext("Chain length"),
        "error": gettext("Not recorded"),
        "network": gettext("The server cannot be reached; scan again when the connection is back"),
        "login_failed": gettext("Sign-in failed"),
        "decoding": gettext("Reading the photo..."),
        "no_scans": gettext("No scans yet"),
    }


@public
def scan_page():
    """Serve the scan station; it signs in and calls the API from the browser."""
    return render_template("scan.html", messages=messages(), locale=str(get_locale() or "zh"))


def init_app(state) -> None:
    state.app.add_url_rule("/scan", endpoint="scan_page", view_func=scan_page)
