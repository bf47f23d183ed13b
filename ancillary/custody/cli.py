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
from ancillary.custody.checkpoints import make_checkpoint, sink_for, verify_all
from ancillary.custody.views import label_info
from ancillary.extensions import db
from ancillary.timeutil import app_now
from scanners.labels import render_label_sheet_pdf


@click.group()
def custody():
    """Custody chains of the dossiers."""


@custody.command("verify")
@with_appcontext
def custody_verify():
    """Verify every custody chain against the latest signed checkpoint; exit 1 naming the first bad event."""
    started = time.perf_counter()
    result = verify_all(db.session, current_app.config["SETTINGS"],
                        progress=lambda n: click.echo(f"  ... {n:,} events", err=True))
    seconds = time.perf_counter() - started
    db.session.rollback()
    anchor = (f"against checkpoint {result.checkpoint['number']} of {result.checkpoint['made_at']}"
              if result.checkpoint else "with no signed checkpoint yet")
    if result.ok:
        click.echo(f"custody chains verify {anchor}: {result.events_checked:,} event(s) checked in {seconds:.1f} s")
        return
    bad = result.first_bad_event
    where = f"event {bad['id']}" if bad["id"] is not None else "the chain's end"
    if bad["dossier_id"] is None:
        where = "the checkpoint log"
    click.secho(f"custody chain BROKEN at {where} (dossier {bad['dossier_id']}, seq {bad['seq']}): {bad['reason']}"
                f" — checked {anchor}; {result.events_checked:,} event(s) checked", fg="red", err=False)
    sys.exit(1)


@custody.command("checkpoint")
@with_appcontext
def custody_checkpoint():
    """Sign a checkpoint of every chain now (the scheduler does this at least hourly)."""
    settings = current_app.config["SETTINGS"]
    if settings.custody_signing_key is None:
        click.secho("error: set ANCILLARY_CUSTODY_SIGNING_KEY (64 hex digits) to sign checkpoints", fg="red", err=True)
        sys.exit(1)
    payload = make_checkpoint(db.session, sink_for(settings), settings.custody_signing_key, now=app_now())
    db.session.rollback()
    click.echo(f"checkpoint {payload['number']}: {payload['tree_size']:,} chain(s), {payload['events']:,} event(s),"
               f" root {payload['root'][:16]}…, written to {settings.custody_checkpoint_dir}")


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
