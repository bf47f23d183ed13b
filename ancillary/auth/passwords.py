"""What a password must be: long, not common, not built from the person's own name.

Strength is judged by zxcvbn (Dropbox's estimator, maintained on PyPI), which knows the
common-password lists, keyboard walks, dates and l33t substitutions, rather than by a
hand-kept list. Score 3 of 4 means "safely unguessable against online attack" in its terms.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from ancillary.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 200
MIN_SCORE = 3
# zxcvbn's cost grows with length; the first 100 characters decide.
JUDGED_CHARS = 100


def check_password(password: str, *, username: str, display_name: str | None = None, field: str = "password") -> None:
    """Raise Invalid naming ``field`` when ``password`` is too weak for this person."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise Invalid("weak_password", "a password needs at least {min} characters", field=field, min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise Invalid("weak_password", "a password may have at most {max} characters", field=field, max=MAX_LENGTH)
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise Invalid("weak_password", "a password may not contain the username", field=field)
    inputs = [value for value in (username, display_name) if value]
    if zxcvbn(password[:JUDGED_CHARS], user_inputs=inputs)["score"] < MIN_SCORE:
        raise Invalid("weak_password", "this password is too common or too easy to guess; choose a longer phrase",
                      field=field)
