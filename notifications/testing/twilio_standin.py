"""A local, Twilio-compatible HTTP server for tests and benchmarks.

It speaks the small part of Twilio's 2010-04-01 REST API that Ancillary uses, the way the
official SDK talks to it: form-encoded ``POST .../Accounts/{sid}/Messages.json`` and
``.../Calls.json`` with HTTP Basic auth, JSON answers shaped like Twilio's, and Twilio's
error JSON (``{"code", "message", "more_info", "status"}``). It can also play the other
half: POST signed status callbacks (``X-Twilio-Signature`` computed with the SDK's own
``RequestValidator``) to the ``StatusCallback`` URL a message or call was created with.

Usage::

    with TwilioStandin() as standin:
        client = build_client(standin.account_sid, standin.auth_token, api_base=standin.base_url)
        ...
        standin.fail_next(2, status=429, retry_after=3)   # rate limit the next two requests
        standin.delay_next(1, seconds=2.0)                 # answer the next one slowly
        standin.send_status_callback(sid, "delivered")     # POST a signed callback

It listens on 127.0.0.1 only, on a free port, and serves each request in its own thread.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import queue
import re
import secrets
import socket
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import requests
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
ROUTE_RE = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[^/]+)/(?P<resource>Messages|Calls)"
    r"(?:/(?P<sid>[A-Za-z0-9]+))?\.json$"
)


def _rfc2822(moment: datetime) -> str:
    """Format a time the way Twilio's API does: ``Thu, 26 Nov 2026 14:05:23 +0000``."""
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@dataclass
class _Fault:
    status: int | None = None  # answer this status instead of serving the request
    retry_after: float | None = None
    delay: float = 0.0  # sleep this long first (a slow or hanging provider)


@dataclass(frozen=True)
class DeliveredCallback:
    """A status callback the stand-in POSTed, and what the receiver answered."""

    url: str
    params: dict[str, str]
    signature: str
    response_status: int | None
    error: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    standin: TwilioStandin

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) closes its end while a delayed answer is
        # written; that is expected here, not worth a traceback on stderr.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body leave in two writes; without TCP_NODELAY every keep-alive answer
    # waits ~40 ms for the client's delayed ACK (Nagle), which caps a sender at ~20 msg/s
    disable_nagle_algorithm = True
    server: _Server
    timeout = 30  # idle keep-alive connections end on their own

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def setup(self) -> None:
        super().setup()
        self.server.standin._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.standin._track(self.connection, False)

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self.server.standin._serve(self, "POST")

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.standin._serve(self, "GET")

    def send_json(
        self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class TwilioStandin:
    """A Twilio-compatible API on 127.0.0.1, recording what it receives."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        invalid_numbers: Iterable[str] = (),
        auto_callbacks: Iterable[str] = (),
        callback_timeout: float = 5.0,
    ) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self.invalid_numbers = set(invalid_numbers)
        #: statuses POSTed to each StatusCallback after creation, in order, e.g.
        #: ("sent", "delivered"); empty means callbacks are only sent when asked.
        self.auto_callbacks = tuple(auto_callbacks)
        self.callback_timeout = callback_timeout
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._calls: list[dict[str, Any]] = []
        self._callbacks: list[DeliveredCallback] = []
        self._faults: list[_Fault] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._outbox: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._callback_thread: threading.Thread | None = None
        self.request_count = 0

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> TwilioStandin:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self._host, self._port), _Handler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name="twilio-standin", daemon=True,
        )
        self._thread.start()
        self._callback_thread = threading.Thread(
            target=self._deliver_queued, name="twilio-standin-callbacks", daemon=True
        )
        self._callback_thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes delayed handlers
        self._outbox.put(None)
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        assert self._thread is not None and self._callback_thread is not None
        self._thread.join(5)
        self._callback_thread.join(5)
        self._server = None

    def __enter__(self) -> TwilioStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The value for ``TWILIO_API_BASE``."""
        return f"http://{self._host}:{self.port}"

    # --- what it received --------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message accepted: Twilio's resource JSON plus ``status_callback``."""
        with self._lock:
            return [dict(m) for m in self._messages]

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every call accepted: Twilio's resource JSON plus ``twiml`` and ``status_callback``."""
        with self._lock:
            return [dict(c) for c in self._calls]

    @property
    def callbacks(self) -> list[DeliveredCallback]:
        """Every status callback POSTed so far."""
        with self._lock:
            return list(self._callbacks)

    def reset(self) -> None:
        """Forget what was received and any pending faults."""
        with self._lock:
            self._messages.clear()
            self._calls.clear()
            self._callbacks.clear()
            self._faults.clear()
            self.request_count = 0

    # --- programmable faults -----------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 500, retry_after: float | None = None) -> None:
        """Answer the next ``n`` authenticated requests with ``status`` (e.g. 429 or 500)."""
        with self._lock:
            self._faults.extend(_Fault(status=status, retry_after=retry_after) for _ in range(n))

    def delay_next(self, n: int = 1, *, seconds: float) -> None:
        """Serve the next ``n`` authenticated requests only after ``seconds`` (slow or hung)."""
        with self._lock:
            self._faults.extend(_Fault(delay=seconds) for _ in range(n))

    # --- status callbacks --------------------------------------------------------------

    def signed_status_callback(
        self, sid: str, status: str, *, url: str | None = None, error_code: int | None = None
    ) -> tuple[str, dict[str, str], str]:
        """Return ``(url, params, signature)`` of the callback Twilio would POST for ``sid``.

        ``url`` overrides the resource's ``StatusCallback`` (to sign for a public URL the
        stand-in cannot reach, say).
        """
        resource, kind = self._find(sid)
        target = url or resource.get("status_callback")
        if not target:
            raise ValueError(f"{sid} has no StatusCallback URL")
        common = {
            "AccountSid": self.account_sid,
            "From": resource["from"],
            "To": resource["to"],
            "ApiVersion": API_VERSION,
        }
        if kind == "message":
            params = {
                **common,
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
            }
        else:
            params = {
                **common,
                "CallSid": sid,
                "CallStatus": status,
                "Direction": "outbound-api",
            }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        signature = RequestValidator(self.auth_token).compute_signature(target, params)
        return target, params, signature

    def send_status_callback(
        self, sid: str, status: str, *, url: str | None = None, error_code: int | None = None
    ) -> DeliveredCallback:
        """POST a signed status callback for ``sid`` and return what happened."""
        with self._lock:
            for rows in (self._messages, self._calls):
                for row in rows:
                    if row["sid"] == sid:
                        row["status"] = status
        target, params, signature = self.signed_status_callback(
            sid, status, url=url, error_code=error_code
        )
        try:
            answer = requests.post(
                target,
                data=params,
                headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
                timeout=self.callback_timeout,
            )
            delivered = DeliveredCallback(target, params, signature, answer.status_code)
            answer.close()
        except requests.RequestException as exc:
            delivered = DeliveredCallback(target, params, signature, None, str(exc))
        with self._lock:
            self._callbacks.append(delivered)
        return delivered

    def _deliver_queued(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None or self._stopping.is_set():
                return
            self.send_status_callback(*item)

    # --- request handling --------------------------------------------------------------

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _find(self, sid: str) -> tuple[dict[str, Any], str]:
        with self._lock:
            for row in self._messages:
                if row["sid"] == sid:
                    return dict(row), "message"
            for row in self._calls:
                if row["sid"] == sid:
                    return dict(row), "call"
        raise KeyError(sid)

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        expected = f"{self.account_sid}:{self.auth_token}"
        return hmac.compare_digest(decoded.encode(), expected.encode())

    def _serve(self, handler: _Handler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.request_count += 1

        if not self._authorised(handler.headers.get("Authorization")):
            handler.send_json(
                401, _error(20003, "Authenticate", 401),
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
            return
        route = ROUTE_RE.match(path)
        if not route or route["account"] != self.account_sid:
            handler.send_json(404, _error(20404, f"The requested resource {path} was not found", 404))
            return

        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            if fault.delay and self._stopping.wait(fault.delay):
                return
            if fault.status is not None:
                self._answer_fault(handler, fault)
                return

        if method == "GET":
            self._fetch(handler, route["resource"], route["sid"])
            return
        if route["sid"]:
            handler.send_json(405, _error(20004, "Method not allowed", 405))
            return
        try:
            form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            handler.send_json(400, _error(20001, "Request body is not UTF-8", 400))
            return
        if route["resource"] == "Messages":
            self._create_message(handler, form)
        else:
            self._create_call(handler, form)

    def _answer_fault(self, handler: _Handler, fault: _Fault) -> None:
        status = int(fault.status or 500)
        headers: dict[str, str] = {}
        if status == 429:
            body = _error(20429, "Too Many Requests", 429)
        elif status >= 500:
            body = _error(20500, "Internal Server Error", status)
        else:
            body = _error(status, "Injected fault", status)
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        handler.send_json(status, body, headers)

    def _check_numbers(self, handler: _Handler, form: Mapping[str, str]) -> bool:
        to, from_ = form.get("To", ""), form.get("From", "")
        if not to:
            handler.send_json(400, _error(21604, "A 'To' phone number is required.", 400))
            return False
        if not E164_RE.match(to) or to in self.invalid_numbers:
            handler.send_json(
                400, _error(21211, f"Invalid 'To' Phone Number: {to}", 400)
            )
            return False
        if not from_:
            handler.send_json(400, _error(21603, "A 'From' phone number is required.", 400))
            return False
        return True

    def _base_resource(self, prefix: str, collection: str, form: Mapping[str, str]) -> dict[str, Any]:
        sid = prefix + secrets.token_hex(16)
        now = _rfc2822(datetime.now(UTC))
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "sid": sid,
            "to": form["To"],
            "from": form["From"],
            "status": "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "price": None,
            "price_unit": "USD",
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/{collection}/{sid}.json",
        }

    def _create_message(self, handler: _Handler, form: Mapping[str, str]) -> None:
        if not self._check_numbers(handler, form):
            return
        body = form.get("Body", "")
        if not body:
            handler.send_json(400, _error(21602, "Message body is required.", 400))
            return
        resource = self._base_resource("SM", "Messages", form)
        resource.update(
            {
                "body": body,
                "num_segments": str(max(1, -(-len(body) // 70))),
                "num_media": "0",
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "messaging_service_sid": None,
                "subresource_uris": {"media": resource["uri"].replace(".json", "/Media.json")},
            }
        )
        self._store(self._messages, resource, form)
        handler.send_json(201, resource)

    def _create_call(self, handler: _Handler, form: Mapping[str, str]) -> None:
        if not self._check_numbers(handler, form):
            return
        if not form.get("Twiml") and not form.get("Url"):
            handler.send_json(400, _error(21205, "Url or Twiml parameter is required.", 400))
            return
        resource = self._base_resource("CA", "Calls", form)
        resource.update(
            {
                "parent_call_sid": None,
                "start_time": None,
                "end_time": None,
                "duration": None,
                "answered_by": None,
                "caller_name": None,
                "subresource_uris": {},
            }
        )
        self._store(self._calls, resource, form, twiml=form.get("Twiml"))
        handler.send_json(201, resource)

    def _store(
        self, rows: list[dict[str, Any]], resource: dict[str, Any], form: Mapping[str, str], **extra: Any
    ) -> None:
        callback = form.get("StatusCallback") or None
        with self._lock:
            rows.append({**resource, "status_callback": callback, **extra})
        if callback:
            for status in self.auto_callbacks:
                self._outbox.put((resource["sid"], status))

    def _fetch(self, handler: _Handler, resource: str, sid: str | None) -> None:
        if not sid:
            handler.send_json(405, _error(20004, "Method not allowed", 405))
            return
        with self._lock:
            rows = self._messages if resource == "Messages" else self._calls
            found = next((r for r in rows if r["sid"] == sid), None)
        if found is None:
            handler.send_json(404, _error(20404, f"The requested resource {sid} was not found", 404))
            return
        handler.send_json(200, {k: v for k, v in found.items() if k not in ("status_callback", "twiml")})
