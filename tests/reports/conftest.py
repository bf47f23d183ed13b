"""Report fixtures: the cookie-session client of the page tests."""

from tests.pages.conftest import web  # noqa: F401  (the fixture, shared)
