"""The process model of ``ancillary serve``: gunicorn workers, and the scheduler as its own process.

Nothing crosses a fork: the gunicorn master never runs the scheduler or touches the
database, so a worker is forked from a process that holds no lock, connection or
thread of ours; ``ancillary.db.reset_after_fork`` also runs in every child, and
``post_fork`` says so in the log. The scheduler is a separate ``ancillary scheduler``
process (fork+exec: it shares nothing) started by the master as it starts, niced,
its first tick a little later; the master stops it on exit, and it stops by itself
if the master dies.
"""

from __future__ import annotations

import errno
import gc
import logging
import mmap
import os
import signal
import socket
import subprocess
import sys
import threading
import traceback

from gunicorn.app.base import BaseApplication
from gunicorn.config import AccessLogFormat
from gunicorn.glogging import Logger

from ancillary.db import reset_after_fork

log = logging.getLogger(__name__)

GRACEFUL_SECONDS = 30  # a running request or sweep gets this long to finish after SIGTERM
NICENESS = 10


FIRST_TICK_DELAY = 15  # beside a fresh server, people signing in go first; sweeps catch up after


def scheduler_argv() -> list[str]:
    """The command line of a scheduler that follows this process (it exits when we do)."""
    return [sys.executable, "-m", "ancillary", "scheduler", "--parent-pid", str(os.getpid()),
            "--first-tick-delay", str(FIRST_TICK_DELAY)]


class SchedulerChild:
    """The scheduler process beside the web workers."""

    def __init__(self):
        self.process: subprocess.Popen | None = None

    def start(self, server=None) -> None:
        # Niced: its start-up and sweeps yield the CPU to the workers answering people.
        # (The master is single-threaded here, so preexec_fn is safe.)
        self.process = subprocess.Popen(scheduler_argv(), preexec_fn=lambda: os.nice(NICENESS))
        log.info("scheduler started as process %s", self.process.pid)

    def stop(self, server=None) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(GRACEFUL_SECONDS + 5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def freeze_start_up() -> None:
    """Leave the objects built so far (the app, its modules) out of every later full garbage collection.

    The master builds the app before forking: about 200,000 objects (modules, the
    mappers, the compiled statements) that live as long as the process. Each full
    collection in a worker walked them all, holding the interpreter lock for about
    200 ms while every request in that worker waited (once a worker in a 3,200-request
    booking race: its slowest answers, and at 300 bookings a second a queue that took
    a second to drain). Frozen, they are never collected again, and a worker's full
    collection walks only what it made itself. Also keeps their pages shared with the
    master (a collection writes to every object it walks).
    """
    gc.collect()
    gc.freeze()


def _pre_fork(server, worker) -> None:
    freeze_start_up()


class ConnectionShares:
    """Keeps the kept-alive connections even between workers that each listen on a socket of their own.

    The kernel hashes each new connection to one worker's socket, so 16 clients that
    keep their connections open land 8/8 only by luck: 11/5 or worse in about one start
    of five. Then one worker's interpreter answers most of the requests while the other's
    core idles (in a booking race at 11/5, 1.65 of the 2 cores busy, and the 11 clients
    waited 36 ms where an even split answers everyone in 30). So each worker publishes how
    many connections it holds in memory shared with the others, and while it holds more
    than its even share, it answers with ``Connection: close`` (RFC 9112 section 9.6). The
    client opens its next connection, which the kernel hashes anew: the counts settle
    within a few requests of each connection, and no request is lost (the close is
    announced in the answer, after it).
    """

    def __init__(self, workers: int):
        # An anonymous shared mapping: the forked workers and the master see the same counts.
        self.counts = memoryview(mmap.mmap(-1, 4 * workers)).cast("i")

    def assign(self, server, worker) -> None:
        """In the master, before the fork: give the new worker a free slot."""
        taken = {getattr(other, "share_slot", None) for other in server.WORKERS.values()}
        worker.share_slot = next((slot for slot in range(len(self.counts)) if slot not in taken), None)
        if worker.share_slot is not None:
            self.counts[worker.share_slot] = 0

    def forget(self, server, worker) -> None:
        """In the master, once a worker has exited: no share is kept for it until the next one forks.

        Until then its clients can only reconnect to the others: closing theirs would be churn.
        """
        slot = getattr(worker, "share_slot", None)
        if slot is not None:
            self.counts[slot] = -1

    def pre_request(self, worker, req) -> None:
        slot = getattr(worker, "share_slot", None)
        if slot is None:  # a worker added beyond the configured count takes no part
            return
        held = worker.nr_conns
        self.counts[slot] = held
        alive = [count for count in self.counts if count >= 0]
        if held > -(-sum(alive) // len(alive)):
            req.must_close = True


def _post_fork(server, worker) -> None:
    """Belt and braces: the at-fork hook has already reset the child; say so in the log."""
    reset_after_fork()
    server.log.info("worker %s starts with fresh database pools", worker.pid)


def _quoted(value: str) -> str:
    return value.replace('"', '\\"')  # as gunicorn's SafeAtoms escapes every text atom


class AccessLogger(Logger):
    """gunicorn's logger, its access line in the default (combined) format built directly.

    For each line gunicorn builds some 25 atoms and one more per request and response
    header, wraps them to escape quotes, then %-formats the nine it prints: about 2 % of a
    served booking's Python. The line is the same, character for character; any other
    ``access_log_format`` goes through gunicorn as before.
    """

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        if self.cfg.access_log_format != AccessLogFormat.default:
            super().access(resp, req, environ, request_time)
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        sent = getattr(resp, "sent", None)
        request_line = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        fields = (environ.get("REMOTE_ADDR", "-"), self._get_user(environ) or "-", self.now(), request_line)
        host, user, when, request_line = (_quoted(value) for value in fields)
        line = (f'{host} - {user} {when} "{request_line}" {status} {sent if sent is not None else "-"} '
                f'"{_quoted(environ.get("HTTP_REFERER", "-"))}" "{_quoted(environ.get("HTTP_USER_AGENT", "-"))}"')
        try:
            self.access_log.info(line)
        except Exception:
            self.error(traceback.format_exc())


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on (host, port): a bind without SO_REUSEPORT says so."""
    try:
        socket.create_server((host, port)).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return True
        raise
    return False


class Server(BaseApplication):
    """gunicorn with gthread workers around an already built Flask app.

    With more than one worker, each listens on a socket of its own (``SO_REUSEPORT``) and
    the kernel spreads new connections over them (``ConnectionShares`` evens out the
    kept-alive ones). On one shared socket every connection went to whichever worker the
    kernel woke first: 16 of 16 kept-alive clients on one worker, so one core answered
    while the other's worker idled. A second server on the same port would then share the
    connections instead of failing to bind: ``ancillary serve`` refuses to start when the
    port is taken (``port_taken``).
    """

    def __init__(self, app, *, bind: str, workers: int, scheduler: bool, threads: int = 8, keep_alive: int = 2,
                 spread: bool = False):
        self.application = app
        self.options = {"bind": bind, "workers": workers, "threads": threads, "keep_alive": keep_alive,
                        "spread": spread}
        self.scheduler = SchedulerChild() if scheduler else None
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", self.options["bind"])
        self.cfg.set("workers", self.options["workers"])
        self.cfg.set("threads", self.options["threads"])
        self.cfg.set("keepalive", self.options["keep_alive"])
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("reuse_port", self.options["spread"])
        self.cfg.set("graceful_timeout", GRACEFUL_SECONDS)
        self.cfg.set("accesslog", "-")
        self.cfg.set("logger_class", AccessLogger)
        self.cfg.set("control_socket_disable", True)  # one fixed path per user: two servers would fight
        self.cfg.set("pre_fork", _pre_fork)
        self.cfg.set("post_fork", _post_fork)
        if self.options["spread"]:
            shares = ConnectionShares(self.options["workers"])

            def pre_fork(server, worker):
                _pre_fork(server, worker)
                shares.assign(server, worker)

            self.cfg.set("pre_fork", pre_fork)
            self.cfg.set("pre_request", shares.pre_request)
            self.cfg.set("child_exit", shares.forget)
        if self.scheduler is not None:
            # Started before the port opens: its imports are done by the time people arrive.
            self.cfg.set("on_starting", self.scheduler.start)
            self.cfg.set("on_exit", self.scheduler.stop)

    def load(self):
        return self.application


def follow_parent(parent_pid: int, on_orphaned) -> threading.Thread:
    """Call ``on_orphaned`` once ``parent_pid`` is no longer our parent (it died)."""

    def watch():
        stop = threading.Event()
        while not stop.wait(0.5):
            if os.getppid() != parent_pid:
                log.warning("the serving process %s is gone; the scheduler stops", parent_pid)
                on_orphaned()
                return

    thread = threading.Thread(target=watch, name="follow-parent", daemon=True)
    thread.start()
    return thread
