"""``python -m ancillary`` is the ``ancillary`` command."""

from ancillary.console import main

main()
