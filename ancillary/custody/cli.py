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
from ancillary.command import fail
from ancillary.config_env import SettingsError, parse_public_key
from ancillary.custody.checkpoint_sinks import LOCAL, OBJECT_STORE, sinks_for
from ancillary.custody.checkpoints import catch_up, expected_public_key, make_checkpoint, public_key_hex, verify_all
from ancillary.custody.views import label_info
from ancillary.extensions import db
from ancillary.timeutil import app_now
from scanners.labels import render_label_sheet_pdf


@click.group()
def custody():
    """Custody chains of the dossiers."""


PLACES = {"local": (LOCAL,), "object-store": (OBJECT_STORE,), "all": None}


def _public_key_option(ctx, param, value):
    if value is None:
        return None
    try:
        return parse_public_key(value, "--public-key")
    except SettingsError as exc:
        raise click.BadParameter(str(exc).removeprefix("--public-key ")) from None


@custody.command("verify")
@click.option("--public-key", callback=_public_key_option, metavar="HEX",
              help="the court's public key (`ancillary custody public-key`); default ANCILLARY_CUSTODY_PUBLIC_KEY, "
                   "else the signing key's public half")
@click.option("--from", "source", type=click.Choice(list(PLACES)), default="all", show_default=True,
              help="where to read the checkpoints: the local folder, the object store, or both (compared)")
@click.option("--workers", type=click.IntRange(1, 16), metavar="N",
              help="dossier ranges checked at once (PostgreSQL: each on its own connection; SQLite: each "
                   "in a process of its own); default ANCILLARY_CUSTODY_VERIFY_WORKERS, else one per core "
                   "(1: one walk)")
@with_appcontext
def custody_verify(public_key, source, workers):
    """Verify every custody chain against the latest signed checkpoint; exit 1 naming the first bad event."""
    settings = current_app.config["SETTINGS"]
    if source == "object-store" and settings.storage_backend != "s3":
        fail("error: --from object-store needs ANCILLARY_STORAGE=s3 and the ANCILLARY_S3_* settings")
    started = time.perf_counter()
    result = verify_all(db.session, settings, public_key=public_key, places=PLACES[source], workers=workers,
                        progress=lambda n: click.echo(f"  ... {n:,} events", err=True))
    seconds = time.perf_counter() - started
    db.session.rollback()
    if result.public_key is None:
        click.echo("no public key: checkpoints were not checked (set ANCILLARY_CUSTODY_PUBLIC_KEY or pass "
                   "--public-key HEX)", err=True)
    anchor = (f"against checkpoint {result.checkpoint['number']} of {result.checkpoint['made_at']}"
              if result.checkpoint else "with no signed checkpoint yet")
    if result.ok:
        click.echo(f"custody chains verify {anchor}: {result.events_checked:,} event(s) checked in {seconds:.1f} s")
        return
    bad = result.first_bad_event
    click.secho(f"custody chain BROKEN at {_where(bad)}: {bad['reason']}"
                + (f" ({bad['detail']})" if bad.get("detail") else "")
                + f" — checked {anchor}; {result.events_checked:,} event(s) checked", fg="red", err=False)
    sys.exit(1)


def _where(bad: dict) -> str:
    if bad["dossier_id"] is None:
        place = {LOCAL: "the local checkpoint log", OBJECT_STORE: "the object store's checkpoints"}
        number = f", checkpoint {bad['checkpoint']}" if bad.get("checkpoint") else ""
        return f"{place.get(bad.get('source'), 'the checkpoint log')}{number}"
    where = f"event {bad['id']}" if bad["id"] is not None else "the chain's end"
    return f"{where} (dossier {bad['dossier_id']}, seq {bad['seq']})"


@custody.command("checkpoint")
@with_appcontext
def custody_checkpoint():
    """Sign a checkpoint of every chain now (the scheduler does this at least hourly)."""
    settings = current_app.config["SETTINGS"]
    if settings.custody_signing_key is None:
        fail("error: set ANCILLARY_CUSTODY_SIGNING_KEY (64 hex digits) to sign checkpoints")
    sinks = sinks_for(settings)
    caught_up = catch_up(sinks, public_key_hex(settings.custody_signing_key))
    payload, failures = make_checkpoint(db.session, sinks, settings.custody_signing_key, now=app_now())
    db.session.rollback()
    places = [str(settings.custody_checkpoint_dir)] + ["the object store" for s in sinks[1:] if s.name not in failures]
    for place, copied in caught_up.items():
        click.echo(f"{place.replace('_', ' ')}: {copied}")
    click.echo(f"checkpoint {payload['number']}: {payload['tree_size']:,} chain(s), {payload['events']:,} event(s),"
               f" root {payload['root'][:16]}…, written to {' and '.join(places)}")
    if failures:
        missed = "; ".join(f"{place.replace('_', ' ')} ({why})" for place, why in failures.items())
        fail(f"error: not written to {missed} — the scheduler copies it there at its next run")


@custody.command("public-key")
@with_appcontext
def custody_public_key():
    """Print the public key that verifies checkpoints (hex), to hand to auditors."""
    key = expected_public_key(current_app.config["SETTINGS"])
    if key is None:
        fail("error: set ANCILLARY_CUSTODY_SIGNING_KEY (or ANCILLARY_CUSTODY_PUBLIC_KEY) first")
    click.echo(key)


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
