"""Clean up text typed by a handheld scanner in keyboard-wedge mode.

A USB or Bluetooth scanner "types" what it reads as key presses, as if on a US keyboard. What
arrives is the text as the *computer's* keyboard layout and state interpret those keys, plus
whatever the scanner adds (a CR or LF or Tab suffix, sometimes STX/ETX or an AIM symbology
prefix such as ``]Q1``). Tokens (see :mod:`scanners.tokens`) are uppercase ASCII, so a damaged
token can often be repaired: we try the usual ways it gets damaged and keep a candidate only if
it has the token format. The signature then tells the caller whether it is genuine -- a layout
repair that matches the format but not the signature is refused there, not here.

Layouts handled (what the host shows for what the scanner meant):

- caps lock on: letters in the wrong case;
- German QWERTZ: Y and Z swapped, ``-`` typed as ``ß``;
- French AZERTY: digits typed as ``&é"'(-è_çà``, A/Q and Z/W swapped, M typed as ``,`` (``?``
  with shift), ``.`` as ``:`` and ``-`` as ``)``;
- a Chinese input method in full-width or Chinese-punctuation mode: ``ＡＮＣ１``, ``。``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator

from scanners.tokens import TOKEN_RE

MAX_SCANNED_LENGTH = 4096  # a QR code holds at most 4296 characters; more is not a scan


def _table(pairs: dict[str, str]) -> dict[int, str]:
    return str.maketrans(pairs)


# Host character -> the character the scanner meant, for a scanner sending US key codes.
GERMAN_QWERTZ = _table({"y": "z", "z": "y", "Y": "Z", "Z": "Y", "ß": "-", "ẞ": "-", "?": "_", "Ö": ":", "ö": ";"})
FRENCH_AZERTY = _table(
    {
        # unshifted number row
        "&": "1", "é": "2", '"': "3", "'": "4", "(": "5", "-": "6", "è": "7", "_": "8", "ç": "9",
        "à": "0", ")": "-", "=": "=",
        # letters that sit elsewhere
        "a": "q", "q": "a", "A": "Q", "Q": "A", "z": "w", "w": "z", "Z": "W", "W": "Z",
        ",": "m", "?": "M", ";": ",", ":": ".", "!": "/", "m": ";", "M": ":",
    }
)  # fmt: skip
# With caps lock on, Linux AZERTY also capitalises the accented letters of the number row.
FRENCH_AZERTY_CAPS = {**FRENCH_AZERTY, **_table({"É": "2", "È": "7", "Ç": "9", "À": "0"})}
CHINESE_PUNCTUATION = _table({"。": ".", "．": ".", "－": "-", "—": "-", "−": "-", "～": "~"})


def _strip_controls(text: str) -> str:
    """Drop control and format characters (CR, LF, Tab, STX, ETX, zero-width, BOM)."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def _drop_aim_prefix(text: str) -> str:
    # An AIM symbology identifier: "]" + code letter + modifier digit, e.g. "]Q1" for QR.
    if len(text) > 3 and text[0] == "]" and text[1].isalpha() and text[2].isalnum():
        return text[3:]
    return text


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _upper(text: str) -> str:
    # ASCII only: str.upper() would turn a German "ß" into "SS", which looks like a token.
    return text.translate(_ASCII_UPPER)


def _no_spaces(text: str) -> str:
    return "".join(text.split())


def _full_width(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(CHINESE_PUNCTUATION)


_REPAIRS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("as typed", lambda t: t),
    ("caps lock", _upper),
    ("full-width input method", lambda t: _upper(_full_width(t))),
    ("German QWERTZ", lambda t: t.translate(GERMAN_QWERTZ)),
    ("German QWERTZ, caps lock", lambda t: _upper(t.translate(GERMAN_QWERTZ))),
    ("French AZERTY", lambda t: t.translate(FRENCH_AZERTY)),
    ("French AZERTY, caps lock", lambda t: _upper(t.translate(FRENCH_AZERTY_CAPS))),
)


def clean_scanned_text(raw: str) -> str:
    """Return ``raw`` without control characters and surrounding whitespace."""
    return _strip_controls(raw).strip()


def token_candidates(raw: str) -> Iterator[tuple[str, str]]:
    """Yield (repair, text) for each distinct repair of ``raw`` that has the token format.

    More than one may match (a German layout turns Y into Z and back); the caller can verify
    each signature in turn.
    """
    if len(raw) > MAX_SCANNED_LENGTH:
        return
    cleaned = clean_scanned_text(raw)
    bases = dict.fromkeys([cleaned, _drop_aim_prefix(cleaned), _no_spaces(_drop_aim_prefix(cleaned))])
    seen: set[str] = set()
    for name, repair in _REPAIRS:
        for base in bases:
            text = repair(base)
            if text not in seen and TOKEN_RE.match(text):
                seen.add(text)
                yield name, text


def normalize_scanned_text(raw: str) -> str:
    """Return the scanned token repaired if a known fault explains it, else the cleaned text."""
    for _, text in token_candidates(raw):
        return text
    return clean_scanned_text(raw)
