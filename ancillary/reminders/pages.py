"""``/follow-up``: the follow-up post's page: its officers' nodes, overdue first, and "remind now".

The page finds the signed-in person's own post, and lists the same nodes as
``GET /api/v1/follow-up-posts/{id}/queue`` (the same query); "remind now" posts to the
API from the browser.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import gettext
from sqlalchemy import select

from ancillary.auth.models import Role, User
from ancillary.display_names import N_
from ancillary.extensions import db
from ancillary.pages import page
from ancillary.queues.models import Post
from ancillary.reminders import queries
from ancillary.reminders.rules import RULE_TEXT
from ancillary.web import current_user, now

bp = Blueprint("reminders_pages", __name__)


def node_sentence(node: dict, tz) -> str:
    """The node as a sentence, as the reminder SMS words it."""
    params = dict(node.get("params") or {})
    if node["node"] == "deadline":
        params.setdefault("date", node["due_at"].astimezone(tz).date().isoformat())
        params.setdefault("days", (node["due_at"].astimezone(tz).date() - now().astimezone(tz).date()).days)
    try:
        return gettext(RULE_TEXT.get(node["node"], N_("needs your action"))).format(**params)
    except (KeyError, IndexError, ValueError):
        return gettext("needs your action")


@bp.get("/follow-up")
@page(Role.follow_up)
def follow_up():
    """My post's officers and their due and overdue nodes, overdue first."""
    settings = current_app.config["SETTINGS"]
    post = db.session.scalar(select(Post).where(Post.user_id == current_user().id, Post.kind == "follow_up"))
    if post is None:
        return render_template("follow_up.html", post=None, nodes=[], officers={})
    queries.check_post_reader(current_user(), post)
    officer_ids = [p.officer_id for p in post.pairings]
    officers = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(officer_ids)))}
    nodes = queries.post_queue(db.session, post, now(), settings)
    tz = settings.timezone
    rows = [{**n, "sentence": node_sentence(n, tz), "due_local": n["due_at"].astimezone(tz).strftime("%m-%d %H:%M"),
             "reminded_local": n["last_reminded_at"].astimezone(tz).strftime("%m-%d %H:%M")
             if n["last_reminded_at"] else None} for n in nodes]
    return render_template("follow_up.html", post=post, nodes=rows, officers=officers, officer_ids=officer_ids)
