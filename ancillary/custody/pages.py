"""Custody pages: ``/scan``, the scan station for a handheld scanner or a phone camera, and
``/custody``, the management office's audit.

Receive and store record a custody event through ``POST /api/v1/scans``; a torn label's
printed code can be typed (marked so in the chain); "look up only" asks
``GET /api/v1/dossiers/lookup`` and records nothing. ``/custody`` finds a dossier by scan
or code, reads its chain as a timeline, verifies the whole court, and lists the dossiers
to chase; it only reads.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext

from ancillary.auth.models import Role
from ancillary.custody import queries, services
from ancillary.custody.services import SCAN_ROLES
from ancillary.errors import DomainError, NotFound
from ancillary.extensions import db
from ancillary.pages import page
from ancillary.web import error_message, now

bp = Blueprint("custody_pages", __name__)
IDLE_DAYS = 14  # the idle list's default; the office may ask for any number of days


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


# --- /custody: the management office's audit ---------------------------------------------


def _find(raw: str):
    """The dossier a scanned label or a typed dossier code names, or a sentence why not."""
    text = raw.strip()
    try:
        return services.dossier_by_code(db.session, text.upper()), None
    except NotFound:
        pass
    try:
        code = services.token_to_code(current_app.config["SETTINGS"].qr_keyring, text)
        return services.dossier_by_code(db.session, code), None
    except DomainError as error:
        return None, error_message(error) if error.code != "not_a_label" else None


def _int_arg(name: str, default: int | None, low: int = 1, high: int = 3650) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and low <= int(value) <= high else default


@bp.get("/custody")
@page(Role.court_admin)
def custody():
    """One page for the custody audit; every list is a read, nothing here changes anything."""
    settings = current_app.config["SETTINGS"]
    tz, moment = settings.timezone, now()
    raw = request.args.get("code", "")
    dossier = problem = found_error = None
    events: list = []
    verified = None
    if raw.strip():
        dossier, found_error = _find(raw)
        if dossier is None and found_error is None:
            found_error = _no_such(raw)
    if dossier is not None:
        events = queries.timeline(db.session, dossier, tz)
        check = services.verify_chains(db.session, dossier.id)
        verified, problem = check.ok, queries.describe_bad(db.session, check, tz)
        bad_id = check.first_bad_event.event_id if check.first_bad_event else None
        for event in events:
            event["bad"] = event["id"] == bad_id
    idle_days = _int_arg("idle_days", IDLE_DAYS)
    reader = _int_arg("reader", None, 1, 10**9)
    return render_template(
        "custody.html", raw=raw, dossier=dossier, events=events, verified=verified, problem=problem,
        found_error=found_error, idle_days=idle_days, idle=queries.idle(db.session, idle_days, moment),
        closed_with_contractor=queries.closed_with_contractor(db.session),
        mismatched=queries.holder_mismatch(db.session),
        access=queries.access_log(db.session, user_id=reader, case_number=request.args.get("case_number")),
        readers=queries.readers(db.session), reader=reader, case_number=request.args.get("case_number", ""),
    )


def _no_such(raw: str) -> str:
    return gettext("No dossier has the code {code}.").format(code=raw.strip()[:40])
