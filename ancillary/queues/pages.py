"""``/``: "my work" for everyone: the queue in working order, claim, release and complete in one tap."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_babel import gettext

from ancillary.auth.models import Role
from ancillary.display_names import N_
from ancillary.pages import page
from ancillary.queues.views import CLAIMERS, TASK_READERS

bp = Blueprint("queues_pages", __name__)

# Where a person whose work is not a task queue starts (file clerks scan; the sysadmin keeps users).
HOME_LINKS = {
    Role.file_clerk: ("/scan", N_("Open the scan station")),
    Role.sysadmin: ("/api/v1/docs", N_("Users and keys are kept through the API and the command line")),
}


def _strings() -> dict:
    return {
        "kinds": {"schedule_hearing": gettext("Schedule the hearing"), "serve": gettext("Serve the documents"),
                  "archive": gettext("Archive the files")},
        "sla": {"due_soon": gettext("due soon"), "overdue": gettext("overdue")},
        "due": gettext("due"), "claim": gettext("Claim"), "release": gettext("Give back"),
        "complete": gettext("Done"), "open": gettext("Go to the work"), "speedy": gettext("speedy"),
        "claimedByOther": gettext("Someone else claimed it a moment ago."),
        "claimed": gettext("Claimed: it is now in your list."), "released": gettext("Given back to the queue."),
        "completed": gettext("Marked as done."), "failed": gettext("That did not work:"),
        "network": gettext("The server cannot be reached; try again when the connection is back."),
        "links": {"serve": "/service", "archive": "/archive", "schedule_hearing": "/schedule"},
    }


@bp.get("/")
@page()
def my_work():
    """The signed-in person's queue (their own tasks first), due-soon and overdue in colour."""
    role = g.user.role
    return render_template("my_work.html", strings=_strings(), reads_tasks=role in TASK_READERS,
                           claims=role in CLAIMERS, home_link=HOME_LINKS.get(role))
