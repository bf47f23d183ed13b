from tests.custody.conftest import dossiers  # noqa: F401  (same fixtures)
