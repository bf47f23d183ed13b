"""The ``ancillary`` console script: a Flask CLI group over the app the environment describes.

It sits above everything (it builds the app), so the commands themselves (``ancillary.cli``)
never import the app factory.
"""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from ancillary import create_app
from ancillary.config import SettingsError
from ancillary.replay.cli import replay_command


def _create_app():
    try:
        return create_app()
    except SettingsError as exc:
        click.secho(f"refusing to start: {exc}", fg="red", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """Ancillary: court auxiliary services (法院辅助事务外包平台)."""


# The replay builds an app of its own (its own database), so it hangs here, above the factory.
main.add_command(replay_command)


if __name__ == "__main__":
    main()
