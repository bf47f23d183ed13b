"""``ancillary service ...``: carrier CSV import for carriers without a webhook."""

from __future__ import annotations

import csv
import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from ancillary.errors import DomainError
from ancillary.extensions import db
from ancillary.service.carrier import CSV_COLUMNS, DEFAULT_CARRIER, CarrierEventIn
from ancillary.service.services import apply_carrier_event
from ancillary.timeutil import app_now


@click.group()
def service():
    """Service of process."""


def parse_row(row: dict, tz) -> CarrierEventIn:
    raw_at = (row.get("event_at") or "").strip()
    if not raw_at:
        raise ValueError("event_at is empty")
    try:
        event_at = datetime.fromisoformat(raw_at)
    except ValueError:
        raise ValueError(f"event_at {raw_at!r} is not ISO 8601") from None
    if event_at.tzinfo is None:
        event_at = event_at.replace(tzinfo=tz)  # carriers' exports are in local time
    return CarrierEventIn(
        tracking_number=(row.get("tracking_number") or "").strip(),
        event_at=event_at,
        code=(row.get("code") or "").strip().lower(),
        carrier=(row.get("carrier") or DEFAULT_CARRIER).strip().lower(),
        location=(row.get("location") or "").strip() or None,
        description=(row.get("description") or "").strip() or None,
        signed_by=(row.get("signed_by") or "").strip() or None,
    )


@service.command("import-carrier")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch", default=1000, show_default=True, help="rows per commit")
@with_appcontext
def import_carrier(path, batch):
    """Import carrier tracking events from a CSV file (UTF-8, header row).

    Columns: tracking_number, event_at (ISO 8601; local court time when it has no
    offset), code, and optionally location, description, signed_by, carrier. Bad rows
    are skipped and reported; the exit status is 1 when there were any.
    """
    settings = current_app.config["SETTINGS"]
    session = db.session
    counts = {"applied": 0, "duplicate": 0}
    bad: list[tuple[int, str]] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CSV_COLUMNS[:3] if c not in (reader.fieldnames or [])]
        if missing:
            click.secho(f"error: the header lacks {', '.join(missing)} (columns: {', '.join(CSV_COLUMNS)})",
                        fg="red", err=True)
            sys.exit(1)
        rows = list(reader)
    total = len(rows)
    click.echo(f"{path}: {total} rows")
    for index, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            event = parse_row(row, settings.timezone)
            with session.begin_nested():
                outcome = apply_carrier_event(session, event, source="csv", now=app_now(), settings=settings)
            counts[outcome] += 1
        except (ValueError, DomainError) as exc:
            reason = exc.message if isinstance(exc, DomainError) else str(exc)
            bad.append((index, reason))
        done = index - 1
        if done % batch == 0 or done == total:
            session.commit()
            click.echo(f"\r  {done}/{total} rows", nl=done == total)
    session.commit()
    click.echo(f"applied {counts['applied']}, duplicates {counts['duplicate']}, bad rows {len(bad)}")
    for line, reason in bad[:100]:
        click.echo(f"  line {line}: {reason}")
    if len(bad) > 100:
        click.echo(f"  ... and {len(bad) - 100} more")
    if bad:
        sys.exit(1)
