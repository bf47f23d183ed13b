"""``ancillary schedule ...``: auto-scheduling and the court calendar from the command line."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ancillary.auth.models import Role, User
from ancillary.command import transaction
from ancillary.extensions import db
from ancillary.scheduling import auto
from ancillary.scheduling.calendar import OFFICIAL, load_official
from ancillary.timeutil import app_now


@click.group("schedule")
def schedule():
    """Hearing scheduling: auto-schedule a window, load the court calendar."""


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        click.secho(f"error: --{name} {value!r} is not a date (YYYY-MM-DD)", fg="red", err=True)
        sys.exit(2)


@schedule.command("auto")
@click.option("--from", "first", required=True, help="first local date, e.g. 2027-01-11")
@click.option("--to", "last", required=True, help="last local date (included), at most 31 days on")
@click.option("--as", "username", required=True, help="the scheduler the bookings are made as")
@click.option("--venue", help="only cases heard at this venue")
@click.option("--dry-run", is_flag=True, help="print the plan, book nothing")
@with_appcontext
def auto_command(first, last, username, venue, dry_run):
    """Place every pending case it can between --from and --to; print why not for the rest."""
    settings = current_app.config["SETTINGS"]
    session = db.session
    actor = session.scalar(select(User).where(User.username == username))
    if actor is None or actor.role != Role.scheduler or not actor.is_active:
        click.secho(f"error: {username!r} is not an active scheduler", fg="red", err=True)
        sys.exit(1)
    with transaction():
        result = auto.run(session, _date(first, "from"), _date(last, "to"), actor=actor, now=app_now(),
                          settings=settings, venue=venue, dry_run=dry_run)
    tz = settings.timezone
    verb = "would book" if dry_run else "booked"
    click.echo(f"{verb} {len(result['scheduled'])} hearing(s); {len(result['unscheduled'])} case(s) not placed")
    for item in result["scheduled"]:
        click.echo(f"  {item['case_number']}: room {item['courtroom_id']} "
                   f"{item['starts_at'].astimezone(tz):%Y-%m-%d %H:%M}-{item['ends_at'].astimezone(tz):%H:%M}")
    for item in result["unscheduled"]:
        click.echo(f"  not placed {item['case_number']}: {item['reason']} ({item['detail']})")


@schedule.command("calendar")
@click.argument("years", nargs=-1, type=int)
@with_appcontext
def calendar_command(years):
    """Load the official holiday calendar of YEARS (default: this year and next); office entries are kept."""
    now = app_now()
    years = years or (now.year, now.year + 1)
    with transaction() as session:
        written = load_official(session, years, now=now)
    for year in years:
        source = OFFICIAL.get(year, ("missing",))[0]
        hint = "" if year in OFFICIAL else " — enter it with PUT /api/v1/court-days/{day}"
        click.echo(f"  {year}: {source}{hint}")
    click.echo(f"{written} day(s) written")
