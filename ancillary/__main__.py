"""``python -m ancillary`` is the ``ancillary`` command."""

from ancillary.cli import main

main()
