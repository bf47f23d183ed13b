"""`ancillary custody verify` and `ancillary labels`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ancillary.cases.models import Dossier
from ancillary.custody.services import verify_chains
from ancillary.custody.views import label_info
from ancillary.extensions import db
from scanners.labels import render_label_sheet_pdf


@click.group()
def custody():
    """Custody chains of the dossiers."""


@custody.command("verify")
@with_appcontext
def custody_verify():
    """Verify every custody chain; exit 1 naming the first bad event."""
    started = time.perf_counter()
    result = verify_chains(db.session, progress=lambda n: click.echo(f"  ... {n:,} events", err=True))
    seconds = time.perf_counter() - started
    db.session.rollback()
    if result.ok:
        click.echo(f"custody chains verify: {result.events_checked:,} event(s) checked in {seconds:.1f} s")
        return
    bad = result.first_bad_event
    where = f"event {bad.event_id}" if bad.event_id is not None else "the chain's end"
    click.secho(f"custody chain BROKEN at {where} (dossier {bad.dossier_id}, seq {bad.seq}): {bad.reason}; "
                f"{result.events_checked:,} event(s) checked", fg="red", err=False)
    sys.exit(1)


@click.command("labels")
@click.argument("dossier_ids", nargs=-1, required=True, type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="also write the PDF here (A4, 3 x 8 labels a page); it is always kept in the storage")
@with_appcontext
def labels(dossier_ids, out):
    """Write a printable A4 label sheet for DOSSIER_ID..."""
    found = {d.id: d for d in db.session.scalars(select(Dossier).where(Dossier.id.in_(dossier_ids)))}
    missing = [str(i) for i in dossier_ids if i not in found]
    if missing:
        click.secho(f"error: no dossier with id {', '.join(missing)}", fg="red", err=True)
        sys.exit(1)
    with current_app.test_request_context():
        pdf = render_label_sheet_pdf([label_info(found[i]) for i in dossier_ids])
    import hashlib

    from ancillary.storage import storage_for

    key = storage_for(current_app.config["SETTINGS"]).put(
        f"labels/{hashlib.sha256(pdf).hexdigest()}.pdf", pdf, "application/pdf")
    click.echo(f"{len(dossier_ids)} label(s) kept in the storage as {key}")
    if out:
        out.write_bytes(pdf)
        click.echo(f"{len(dossier_ids)} label(s) written to {out}")
