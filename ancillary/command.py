"""The commands' one commit point, as the request has its own (``ancillary.web``).

A command runs its services inside ``transaction()``: the block's work is committed when
it ends normally; a refused rule (a ``DomainError``) rolls everything back and ends the
command with exit status 1 and the reason; any other error rolls back and propagates.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from ancillary.errors import DomainError
from ancillary.extensions import db


def fail(message: str, status: int = 1):
    """Print ``message`` in red on stderr and end the command."""
    click.secho(message, fg="red", err=True)
    sys.exit(status)


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit the block's work, or roll it back and explain the refusal."""
    session = db.session
    try:
        yield session
    except DomainError as exc:
        session.rollback()
        fail(f"error: {exc.message}" + (f" (field {exc.field})" if exc.field else ""))
    except BaseException:
        session.rollback()
        raise
    session.commit()
