"""A request id on every request and answer, and one JSON log line per request when asked.

``ANCILLARY_LOG_FORMAT=json`` turns on the lines, on the ``ancillary.request`` logger:
``{"event": "request", "request_id", "method", "path", "status", "duration_ms", "user_id",
"remote_addr"}``. The id is the caller's ``X-Request-ID`` when it is a sane token (nginx sets
one: ``proxy_set_header X-Request-ID $request_id``), otherwise a new one; the answer carries it.
``ANCILLARY_PROXY_COUNT=1`` trusts the X-Forwarded-* headers of exactly one proxy (ProxyFix).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger("ancillary.request")
SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class JsonFormatter(logging.Formatter):
    """Log records as one JSON object a line (a request line's fields at the top level)."""

    def format(self, record: logging.LogRecord) -> str:
        body = {"at": self.formatTime(record), "level": record.levelname, "logger": record.name}
        fields = getattr(record, "fields", None)
        if fields:
            body.update(fields)
        else:
            body["message"] = record.getMessage()
        if record.exc_info:
            body["error"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def use_json_logs() -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    if settings.proxy_count:
        count = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)
    app.before_request(_start)
    app.after_request(_finish)
    if settings.log_format == "json":
        use_json_logs()
        app.config["REQUEST_LOG"] = True


def _start():
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if SANE_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish(response):
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-ID"] = request_id
    if current_app.config.get("REQUEST_LOG"):
        user = g.get("user")
        log.info("request", extra={"fields": {
            "event": "request", "request_id": request_id, "method": request.method, "path": request.path,
            "status": response.status_code, "duration_ms": round((time.perf_counter() - g.get("started", 0)) * 1000, 1),
            "user_id": user.id if user is not None else None, "remote_addr": request.remote_addr}})
    return response
