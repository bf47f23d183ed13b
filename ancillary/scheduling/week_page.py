"""The scheduler's week view (/schedule): rooms by hours, the pending queue, book by suggestion.

The page is a static shell; it signs in and talks to the same JSON API as every
other client, so it sees exactly what the signed-in role may see.
"""

from flask import Response, render_template
from flask.views import MethodView
from flask_babel import get_locale, gettext

from ancillary.openapi import Blueprint
from ancillary.web import public

blp = Blueprint("SchedulePage", __name__, url_prefix="", description="The scheduler's week view (HTML)")


def _strings() -> dict:
    return {
        "signIn": gettext("Sign in"), "username": gettext("Username"), "password": gettext("Password"),
        "signInFailed": gettext("Sign-in failed: check the username and password."),
        "pending": gettext("Pending cases"), "noPending": gettext("Nothing waiting to be scheduled."),
        "suggestions": gettext("Earliest free slots"), "noSuggestions": gettext("No feasible slot in the next weeks."),
        "book": gettext("Book"), "booked": gettext("Booked"), "refused": gettext("Refused"),
        "overlap": gettext("overlap"), "due": gettext("due"), "signOut": gettext("Sign out"),
        "weekdays": [gettext("Mon"), gettext("Tue"), gettext("Wed"), gettext("Thu"), gettext("Fri"), gettext("Sat"),
                     gettext("Sun")],
        "holiday": gettext("no sitting"),
        "mainCourt": gettext("main court"),  # the venue code "main"; tribunals are named as they are
        "mine": gettext("in progress"),  # a scheduling task the signed-in scheduler has claimed
        "kinds": {"speedy": gettext("speedy"), "summary": gettext("summary"), "ordinary": gettext("ordinary"),
                  "enforcement": gettext("enforcement")},
    }


@blp.route("/schedule")
class SchedulePage(MethodView):
    @public
    @blp.response(200, content_type="text/html", example="<!doctype html><html>…</html>")
    def get(self):
        """The week view: courtrooms by hours for a chosen week, bookings coloured by kind, the queue beside it."""
        lang = "zh-CN" if str(get_locale() or "zh").startswith("zh") else "en"
        html = render_template("schedule.html", strings=_strings(), lang=lang)
        return Response(html, status=200, content_type="text/html; charset=utf-8")
