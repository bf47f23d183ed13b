"""`ancillary archive import-backlog FILE.csv`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ancillary.archive.services import import_backlog as run
from ancillary.command import transaction
from ancillary.timeutil import app_now


@click.group()
def archive():
    """Archiving and the backlog of files closed before the system."""


@archive.command("import-backlog")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_backlog(file):
    """Import the backlog from FILE.csv (case_number,closed_on,volumes[,location,cause])."""
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        click.secho(f"error: {file} is not UTF-8 text (save the spreadsheet as CSV UTF-8)", fg="red", err=True)
        sys.exit(1)
    total = max(text.count("\n") - 1, 0)
    with transaction() as session, click.progressbar(length=total, label="importing backlog",
                                                     file=sys.stderr) as bar:
        report = run(session, text, actor=None, now=app_now(), progress=bar.update)
    click.echo(f"{report.imported} backlog file(s) imported, {len(report.bad_rows)} bad row(s)")
    for line, reason in report.bad_rows:
        click.echo(f"  line {line}: {reason}")
    if report.bad_rows:
        sys.exit(2)
