from tests.custody.conftest import _purge_custody, dossiers  # noqa: F401  (same fixtures)
