"""``/archive``: the archivist's queue with the days left of 30, and each dossier's steps.

The steps (receive by scan, count, bind, upload the scanned PDF, shelve) are the archive
API's, called from the page with the browser's session; a refused step shows the API's
reason beside it.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext

from ancillary.auth.models import Role
from ancillary.pages import page

bp = Blueprint("archive_pages", __name__)


def _texts() -> dict:
    return {
        "daysLeft": gettext("{n} days left"), "overdueBy": gettext("{n} days overdue"),
        "volumes": gettext("{done} of {all} volumes archived"), "work": gettext("Work on it"),
        "volume": gettext("Volume"), "holder": gettext("Held by"), "nobody": gettext("nobody yet"),
        "you": gettext("you"), "other": gettext("someone else"), "location": gettext("Location"),
        "steps": {"receive": gettext("Receive by scan"), "count": gettext("Count the materials"),
                  "bind": gettext("Bind"), "digitise": gettext("Upload the scanned PDF"),
                  "archive": gettext("Shelve in the archive")},
        "receiveHint": gettext("Scan the label at the scan station to receive this volume."),
        "toScan": gettext("Open the scan station"), "done": gettext("done"), "materials": gettext("materials"),
        "count": gettext("Number of materials"), "shelf": gettext("Archive location"),
        "record": gettext("Record"), "upload": gettext("Upload"), "pdf": gettext("Scanned PDF"),
        "empty": gettext("No closed case is waiting to be archived."), "backlog": gettext("Older files (backlog)"),
        "network": gettext("The server cannot be reached."),
    }


@bp.get("/archive")
@page(Role.archivist)
def archive_queue():
    """The queue, oldest deadline first; open a case to work its dossiers step by step."""
    return render_template("archive.html", texts=_texts())
