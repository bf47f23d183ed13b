"""``/``: "my work" for everyone: the queue in working order, claim, release and complete in one tap."""

from __future__ import annotations

from flask import Blueprint, render_template

from ancillary.pages import page

bp = Blueprint("queues_pages", __name__)


@bp.get("/")
@page()
def my_work():
    """The signed-in person's queue (their own tasks first), due-soon and overdue in colour."""
    return render_template("my_work.html")
