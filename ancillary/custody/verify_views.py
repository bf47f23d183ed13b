"""Whole-court verification: ``GET /custody/verify`` (one JSON answer) and
``GET /custody/verify/stream`` (NDJSON progress lines, then the same answer).

The stream keeps nothing in the process between requests: each request counts the
events, walks the chains in a thread of its own (its own database session) and writes
``{"done": n, "total": N}`` lines as the walk reports them, then the result. Any number of
web processes can serve it, and a reader who leaves stops the walk at its next report.
"""

from __future__ import annotations

import json
import logging
import queue
import threading

from flask import Response, copy_current_request_context, stream_with_context
from flask.views import MethodView
from flask_babel import gettext
from sqlalchemy import func, select

from ancillary.auth.models import Role
from ancillary.custody import queries
from ancillary.custody.checkpoints import FullVerification, verify_all
from ancillary.custody.models import CustodyEvent
from ancillary.custody.schemas import VerifySchema
from ancillary.custody.views import blp, settings
from ancillary.extensions import db
from ancillary.web import pause_transaction, roles

log = logging.getLogger(__name__)
REPORTS = 100  # progress lines per walk, about
VERIFY_EXAMPLE = {"ok": False, "events_checked": 5812,
                  "first_bad_event": {"id": 4411, "dossier_id": 77, "seq": 3, "reason": "content_altered"},
                  "message": "卷宗 DS2027000077-01 第 3 个事件（签收，由 王芳，2027-01-05 09:02）：内容被改动。"}
STREAM_EXAMPLE = ('{"done": 0, "total": 5812}\n{"done": 2900, "total": 5812}\n'
                  '{"done": 5812, "total": 5812, "result": ' + json.dumps(VERIFY_EXAMPLE, ensure_ascii=False) + "}\n")


def verification_body(result: FullVerification) -> dict:
    """The verification as the API answers it, with the first bad event in a sentence."""
    checkpoint = result.checkpoint
    body = {"ok": result.ok, "events_checked": result.events_checked, "first_bad_event": result.first_bad_event,
            "checkpoint": {"number": checkpoint["number"], "made_at": checkpoint["made_at"],
                           "root": checkpoint["root"]} if checkpoint else None}
    if not result.ok:
        body["message"] = queries.describe_finding(db.session, result.first_bad_event, settings().timezone)
    return body


@blp.route("/custody/verify")
class VerifyView(MethodView):
    @roles(Role.court_admin)
    @blp.response(200, VerifySchema, example=VERIFY_EXAMPLE)
    def get(self):
        """Verify every chain against the latest signed checkpoint; name the first thing that does not verify."""
        return verification_body(verify_all(db.session, settings()))


class _Left(Exception):
    """The reader went away: stop walking."""


def _walk(lines: queue.Queue, gone: threading.Event) -> None:
    """Count, verify with progress, and put each line on ``lines``; ``None`` ends them."""
    try:
        total = db.session.scalar(select(func.count()).select_from(CustodyEvent)) or 0
        lines.put({"done": 0, "total": total})

        def progress(done: int) -> None:
            if gone.is_set():
                raise _Left
            lines.put({"done": done, "total": max(total, done)})  # scans go on while the walk does

        result = verify_all(db.session, settings(), progress=progress, every=max(1, total // REPORTS))
        lines.put({"done": result.events_checked, "total": max(total, result.events_checked),
                   "result": verification_body(result)})
    except _Left:
        pass
    except Exception:  # the reader gets a sentence, the log the trace
        log.exception("custody verification failed")
        lines.put({"error": "verify_failed", "message": gettext("The verification stopped; try again.")})
    finally:
        db.session.rollback()
        lines.put(None)


@blp.route("/custody/verify/stream")
class VerifyStreamView(MethodView):
    @roles(Role.court_admin)
    @blp.response(200, content_type="application/x-ndjson", example=STREAM_EXAMPLE, description=(
        "One JSON object per line: {done, total} as the walk goes (done counts events checked), then "
        "{done, total, result} where result is what GET /custody/verify answers; a line {error, message} "
        "instead if the walk fails."))
    def get(self):
        """Verify every chain as ``GET /custody/verify`` does, with progress as it goes (NDJSON)."""
        pause_transaction()  # the walk has its own session; on SQLite this one must not hold the lock
        lines: queue.Queue = queue.Queue()
        gone = threading.Event()
        worker = threading.Thread(target=copy_current_request_context(_walk), args=(lines, gone),
                                  name="custody-verify", daemon=True)

        def stream():
            worker.start()
            try:
                while (line := lines.get()) is not None:
                    yield json.dumps(line, ensure_ascii=False) + "\n"
            finally:
                gone.set()

        return Response(stream_with_context(stream()), mimetype="application/x-ndjson",
                        headers={"X-Accel-Buffering": "no"})  # a proxy passes each line on at once
