"""``ancillary replay --out DIR``: a year at the seed court, replayed through the product."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import fields, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from flask_migrate import upgrade
from sqlalchemy import select

from ancillary import create_app
from ancillary.auth.models import User
from ancillary.config import Settings
from ancillary.extensions import db
from ancillary.outbox import Channels
from ancillary.replay import report
from ancillary.replay.court import FEATURES, STAFF, Rates, ReplaySettings, scale_staff
from ancillary.replay.run import Replay, progress_bar
from ancillary.timeutil import add_months
from notifications.channels import ConsoleEmail, ConsoleSms


def replay_app(out: Path, rs: ReplaySettings, database_url: str | None = None):
    """The app on the replay's own database (an empty one, migrated here), quiet channels, the features asked."""
    out.mkdir(parents=True, exist_ok=True)
    if database_url is None:
        path = out / "replay.sqlite3"
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        database_url = f"sqlite:///{path}"
    env = {**os.environ, "ANCILLARY_DATABASE_URL": database_url, "ANCILLARY_STORAGE_DIR": str(out / "storage"),
           "ANCILLARY_CUSTODY_CHECKPOINT_DIR": str(out / "checkpoints"),
           "ANCILLARY_SMS_BACKEND": "console", "ANCILLARY_SECRET_KEY": os.environ.get("ANCILLARY_SECRET_KEY")
           or f"replay-{rs.seed}",
           "ANCILLARY_QR_KEYS": os.environ.get("ANCILLARY_QR_KEYS") or "R1:replay-key-0123456789"}
    env.pop("ANCILLARY_SMTP_URL", None)
    settings = Settings.from_env(env, service_address_reuse=rs.has("address-reuse"),
                                 service_timed_escalation=rs.has("ladder-escalation"), smtp_url="",
                                 sender_batch=100, sms_timeout_seconds=1.0,  # it answers at once: claim in batches
                                 speedy_reserve_percent=150,  # the seed court keeps room for its speedy cases
                                 **feature_settings(rs))
    app = create_app(settings)
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the app
    # the simulated provider answers at once on the simulated clock: no wall-clock pacing
    app.config["CHANNELS"] = Channels(sms=ConsoleSms(sink), email=ConsoleEmail(sink), voice=None, paced=False)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
        if db.session.scalar(select(User.id).limit(1)) is not None:
            db.session.remove()
            db.engine.dispose()
            raise click.ClickException("the replay needs an empty database: this one already has users")
        db.session.remove()
    return app


def feature_settings(rs: ReplaySettings) -> dict:
    """Settings a switched-off feature turns off beyond the replay's own people: the product's scheduling sweep."""
    return {"auto_schedule_sweep": rs.has("auto-scheduling")}


def run_replay(out: Path, rs: ReplaySettings, *, database_url: str | None = None, progress=None):
    """Run the replay and write DIR/report.json and DIR/report.html; answers the app (still open) and the report."""
    app = replay_app(out, rs, database_url)
    result = Replay(app, rs, progress=progress).run()
    with app.app_context():
        app.config["CLOCK"] = lambda: _stop(rs, app)
        body = report.build(db.session, rs, app.config["SETTINGS"], result)
        db.session.remove()
        report.write(out, body)  # in the app: the page's words come from its catalogues
    return app, body


def replay_to(out: Path, rs: ReplaySettings, *, database_url: str | None = None, progress=None) -> dict:
    """Run the replay, write its report, close the database; answers the report."""
    app, body = run_replay(out, rs, database_url=database_url, progress=progress)
    with app.app_context():
        db.engine.dispose()
    return body


def _stop(rs: ReplaySettings, app):
    end = datetime.combine(add_months(rs.start, rs.months), time(0), app.config["SETTINGS"].timezone)
    return end + timedelta(days=rs.tail_days)


def parse_pairs(values, allowed: set[str], what: str, cast) -> dict:
    pairs = {}
    for value in values:
        name, _, number = value.partition("=")
        if name not in allowed:
            raise click.BadParameter(f"unknown {what} {name!r}; one of: {', '.join(sorted(allowed))}")
        try:
            pairs[name] = cast(number)
        except ValueError:
            raise click.BadParameter(f"{value!r}: give {what}=NUMBER") from None
    return pairs


@click.command("replay")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="directory for report.json, report.html and the replay's SQLite database")
@click.option("--seed", default=136, show_default=True, help="the same seed replays the same year, byte for byte")
@click.option("--staff", type=click.IntRange(7, 500), help="contractor staff in all, spread over the posts (seed: 42)")
@click.option("--post", "posts", multiple=True, help="staff of one post, e.g. --post service_clerk=3")
@click.option("--volume", default=1.0, show_default=True, type=click.FloatRange(0.05, 5), help="arrivals × this")
@click.option("--without", "without", multiple=True, type=click.Choice(FEATURES), help="switch a feature off")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 24),
              help=f"months in which cases are filed; the clock then runs {ReplaySettings.tail_days} days more "
                   "so late work is decided")
@click.option("--start", default="2026-01-01", show_default=True, help="first day (local), ISO date")
@click.option("--cases-per-year", default=15663, show_default=True, type=click.IntRange(1, 200000),
              help="cases filed in a year before --volume (the seed's court: 15,663)")
@click.option("--rate", "rates", multiple=True, help="an outcome rate, e.g. --rate personal_served=0.3")
def replay_command(out, seed, staff, posts, volume, without, months, start, cases_per_year, rates):
    """Replay a year at the seed court through the product and write its report."""
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise click.BadParameter(f"{start!r} is not an ISO date", param_hint="--start") from None
    staffing = scale_staff(staff) if staff else dict(STAFF)
    staffing.update(parse_pairs(posts, set(STAFF), "post", int))
    rate_names = {f.name for f in fields(Rates)}
    changes = parse_pairs(rates, rate_names, "rate", float)
    if any(not 0 <= v <= 1 for v in changes.values()):
        raise click.BadParameter("a rate is a share between 0 and 1", param_hint="--rate")
    rs = ReplaySettings(seed=seed, start=first, months=months, cases_per_year=cases_per_year, volume=volume,
                        staff=staffing, without=tuple(sorted(set(without))), rates=replace(Rates(), **changes))
    body = replay_to(out, rs, database_url=os.environ.get("ANCILLARY_DATABASE_URL"), progress=progress_bar())
    for name, figure in body["figures"].items():
        mark = {True: "met", False: "MISSED", None: "-"}[figure["met"]]
        click.echo(f"{name:34s} {figure['value']!s:>8}  ({figure['numerator']}/{figure['denominator']})  "
                   f"target {figure['target']}  {mark}")
    click.echo(f"written {out / 'report.json'} and {out / 'report.html'}")
    sys.exit(0)
