"""Domain errors; web.py turns each into a JSON answer with its HTTP status.

``message`` is an English template with ``{name}`` fields filled from ``params``;
it is the msgid of the message catalogue, so a user reads it in their locale
(Simplified Chinese by default). ``code`` is stable English for programs.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 422

    def __init__(self, code: str, message: str, field: str | None = None, **params):
        self.code = code
        self.template = message
        self.field = field
        self.params = params
        super().__init__(self.render(message))

    def render(self, template: str) -> str:
        try:
            return template.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return template

    @property
    def message(self) -> str:
        return str(self)


class Invalid(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class Unauthorized(DomainError):
    status = 401


class RateLimited(DomainError):
    """Too many of one kind of move in a while: 429, with ``retry_after`` seconds."""

    status = 429
