"""The commands of the ``ancillary`` console script (``ancillary.console``); each calls the services."""

from __future__ import annotations

import signal
import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ancillary.archive.cli import archive
from ancillary.auth.accounts import reset_password, set_active
from ancillary.auth.models import User
from ancillary.auth.services import create_user, issue_token
from ancillary.command import fail, transaction
from ancillary.config import SettingsError
from ancillary.custody.cli import custody, labels
from ancillary.demo import load_demo
from ancillary.jobs import run_sweeps
from ancillary.leader import SchedulerProcess
from ancillary.ops.checks import check_before_start
from ancillary.outbox import run_sender
from ancillary.scheduling.cli import schedule
from ancillary.service.cli import service
from ancillary.serving import Server, follow_parent, port_taken
from ancillary.timeutil import app_now as _now
from ancillary.wiring import wiring_of


def init_app(app) -> None:
    for command in (users, tokens, demo, serve, tick, scheduler_command, send, custody, labels, archive, schedule,
                    service):
        app.cli.add_command(command)


def _check_before_start(app) -> None:
    """Refuse to start, in one line naming the variable, when the database or storage is unusable."""
    try:
        check_before_start(app.config["SETTINGS"])
    except SettingsError as exc:
        click.secho(f"refusing to start: {exc}", fg="red", err=True)
        sys.exit(2)


@click.group()
def users():
    """Manage user accounts."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, help="one of the eleven roles, e.g. judge, scheduler, court_admin")
@click.option("--phone", help="E.164 phone number, e.g. +8613800000000")
@click.option("--name", "display_name", help="display name (defaults to the username)")
@click.option("--president", is_flag=True, help="mark a court_admin account as the court president")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def users_add(username, role, phone, display_name, president, password_stdin):
    """Add a user; prints the new user's id and role, nothing secret."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with transaction() as session:
        user = create_user(session, username=username, role=role, phone=phone, display_name=display_name,
                           password=password, is_president=president, actor=None, now=_now())
    click.echo(f"user {user.username} (id {user.id}) added with role {user.role.value}")


def _user_or_fail(session, username):
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        fail(f"error: no user {username!r}")
    return user


@users.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username):
    """Disable USERNAME: their tokens and sessions stop at once."""
    with transaction() as session:
        set_active(session, _user_or_fail(session, username), False, actor=None, now=_now())
    click.echo(f"user {username} disabled")


@users.command("enable")
@click.argument("username")
@with_appcontext
def users_enable(username):
    """Enable USERNAME again (old tokens stay revoked)."""
    with transaction() as session:
        set_active(session, _user_or_fail(session, username), True, actor=None, now=_now())
    click.echo(f"user {username} enabled")


@users.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the one-time password from standard input")
@with_appcontext
def users_reset_password(username, password_stdin):
    """Give USERNAME a one-time password; they choose their own at next sign-in.

    Without --password-stdin a random one is printed.
    """
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with transaction() as session:
        given = reset_password(session, _user_or_fail(session, username), actor=None, now=_now(), password=password)
    click.echo(f"password of {username} reset; they choose a new one at next sign-in")
    if not password_stdin:
        click.echo(f"one-time password: {given}")


@click.group()
def tokens():
    """Issue API tokens."""


@tokens.command("issue")
@click.argument("username")
@with_appcontext
def tokens_issue(username):
    """Print a new API token for USERNAME."""
    with transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.may_act():
            fail(f"error: no active user {username!r}; add one with `ancillary users add`")
        token, _ = issue_token(session, user, now=_now(), lifetime=current_app.config["SETTINGS"].token_lifetime)
    click.echo(token)


@click.command()
@click.option("--cases", default=300, show_default=True, help="open cases to file")
@click.option("--seed", default=136, show_default=True, help="random seed, for a reproducible court")
@with_appcontext
def demo(cases, seed):
    """Load a demo court of the seed's size and print the demo logins."""
    try:
        with transaction() as session:
            logins = load_demo(session, settings=current_app.config["SETTINGS"], now=_now(), cases=cases,
                               seed=seed, progress=lambda done, total: click.echo(f"\r  cases {done}/{total}",
                                                                                  nl=done == total))
    except RuntimeError as exc:
        click.echo(str(exc))
        return
    click.echo("\nDemo logins (password for all: {}):".format(logins["password"]))
    for role, username in logins["users"]:
        click.echo(f"  {role:<20} {username}")


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--workers", type=click.IntRange(1, 64),
              help="worker processes (default: 1 on SQLite, whose writers queue best in one process; 2 otherwise)")
@click.option("--threads", type=click.IntRange(1, 64),
              help="threads per worker process, requests answered at once by each (default: 8 on SQLite, whose one "
                   "worker answers every phone directly; 2 otherwise, first come first served behind nginx)")
@click.option("--keep-alive", "keep_alive", type=click.IntRange(1, 3600), default=2, show_default=True,
              help="seconds an idle connection stays open; behind nginx, longer than its upstream keepalive_timeout "
                   "(deploy/ancillary-web.service passes 75 for nginx's 60), or a request nginx sends as the "
                   "connection closes is answered 502")
@click.option("--no-scheduler", is_flag=True, help="serve the API only (run `ancillary scheduler` elsewhere)")
@with_appcontext
def serve(port, host, workers, threads, keep_alive, no_scheduler):
    """Serve the API under gunicorn, with the scheduler beside it as its own process."""

    app = current_app._get_current_object()
    _check_before_start(app)
    sqlite = app.config["SETTINGS"].database_url.startswith("sqlite")
    workers = workers or (1 if sqlite else 2)
    # Two threads a worker on PostgreSQL: its requests queue first come, first served instead of eight
    # at a time under one interpreter lock (bench/README.md, "A mixed hour"); nginx in front buffers
    # the slow phones' uploads, so a thread is held only for the app's own work.
    threads = threads or (8 if sqlite else 2)
    if port and port_taken(host, port):
        click.secho(f"refusing to start: {host}:{port} is already in use (another server?): stop it, "
                    "or choose another --port", fg="red", err=True)
        sys.exit(2)
    click.echo(f"Ancillary on http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)")
    # A port of 0 means "any free port": workers with sockets of their own would each get another.
    Server(app, bind=f"{host}:{port}", workers=workers, threads=threads, keep_alive=keep_alive,
           scheduler=not no_scheduler, spread=workers > 1 and port != 0).run()


@click.command("scheduler")
@click.option("--parent-pid", type=int, hidden=True, help="stop when this process (ancillary serve) is gone")
@click.option("--first-tick-delay", type=click.FloatRange(0, 600), default=0, hidden=True,
              help="seconds before the first tick once leading")
@with_appcontext
def scheduler_command(parent_pid, first_tick_delay):
    """Run a scheduler: it leads when no other does (several may run, on several machines)."""
    _check_before_start(current_app._get_current_object())
    process = SchedulerProcess(current_app._get_current_object(), first_tick_delay=first_tick_delay)
    if parent_pid:
        follow_parent(parent_pid, process.stop.set)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: process.stop.set())
    click.echo(f"scheduler {process.node} waiting to lead; SIGTERM or Ctrl-C stops it")
    process.run()


@click.command()
@click.option("--at", "at", required=True, help="the instant, ISO 8601 with offset, e.g. 2027-01-04T08:00:00+08:00")
@click.option("--only", multiple=True, help="run only the named sweep(s)")
@click.option("--no-deliver", is_flag=True, help="stage and fold reminders, but leave the outbox alone")
@with_appcontext
def tick(at, only, no_deliver):
    """Run every due sweep as of AT and deliver what is due; print what was done."""
    try:
        instant = datetime.fromisoformat(at)
    except ValueError:
        fail(f"error: --at {at!r} is not ISO 8601 (e.g. 2027-01-04T08:00:00+08:00)")
    if instant.tzinfo is None:
        fail("error: --at needs an offset, e.g. 2027-01-04T08:00:00+08:00")
    results = run_sweeps(current_app._get_current_object(), instant, list(only) or None, deliver=not no_deliver)
    click.echo(f"tick at {instant.isoformat()}: {len(wiring_of(current_app).sweeps)} sweep(s)")
    for path, outcome in results:
        summary = ", ".join(f"{k}={v}" for k, v in outcome.items()) or "nothing due"
        click.echo(f"  {path.rsplit('.', 1)[-1]}: {summary}")


@click.command()
@click.option("--until-idle", is_flag=True, help="stop when nothing is due instead of polling")
@click.option("--poll", default=1.0, show_default=True, help="seconds between polls when idle")
@with_appcontext
def send(until_idle, poll):
    """Run an outbox sender (several may run at once on PostgreSQL)."""
    counts = run_sender(current_app._get_current_object(), until_idle=until_idle, poll_seconds=poll)
    click.echo("sender: " + (", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing due"))
