"""Keyboard-wedge input: garble real tokens the way a mis-set keyboard does, then repair them."""

import contextlib

import pytest

from scanners.tokens import TOKEN_RE, Keyring, sign, verify
from scanners.wedge import clean_scanned_text, normalize_scanned_text, token_candidates

RING = Keyring.parse("K1:wedge-secret-0123456789abcdef")
# Dossier codes with every character a layout moves: Y Z A Q W M, digits and "-".
CODES = ["2027-0123-01", "MAZY-QW-7", "WQAZMY0987654321", "A1-B2-C3"]
TOKENS = [sign(RING, code) for code in CODES]


# What the computer shows when a scanner sends the US key presses for ``text``. Written from the
# keyboards' point of view, independently of the tables in scanners.wedge.
def german(text: str) -> str:
    return text.translate(str.maketrans({"Y": "Z", "Z": "Y", "y": "z", "z": "y", "-": "ß"}))


def french(text: str) -> str:
    keys = dict(zip("1234567890", "&é\"'(-è_çà", strict=True))
    keys.update({"-": ")", ".": ":", "A": "Q", "Q": "A", "Z": "W", "W": "Z", "M": "?"})
    return "".join(keys.get(ch, ch) for ch in text)


def caps_lock(text: str) -> str:
    # Caps lock flips letters; "ß" stays (Windows) -- Linux gives "ẞ", tested below.
    return "".join(ch.swapcase() if ch.isascii() else ch for ch in text)


def french_caps_lock(text: str) -> str:
    return "".join({"é": "É", "è": "È", "ç": "Ç", "à": "À"}.get(ch, ch) for ch in caps_lock(french(text)))


def full_width_ime(text: str) -> str:
    return "".join("。" if ch == "." else chr(ord(ch) + 0xFEE0) for ch in text)


GARBLERS = {
    "clean": lambda t: t,
    "caps lock": caps_lock,
    "German QWERTZ": german,
    "German QWERTZ, caps lock": lambda t: caps_lock(german(t)),
    "French AZERTY": french,
    "French AZERTY, caps lock": french_caps_lock,
    "Chinese IME full width": full_width_ime,
}
SUFFIXES = ["", "\r", "\n", "\r\n", "\t", "  \r\n"]


@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("layout", list(GARBLERS))
def test_garbled_tokens_are_repaired(token, layout):
    typed = GARBLERS[layout](token)
    if layout != "clean":
        assert typed != token
    for suffix in SUFFIXES:
        candidates = [text for _, text in token_candidates(typed + suffix)]
        assert token in candidates, (layout, typed)
    # Where no other reading has the token format, the first answer is the token itself.
    if layout not in ("German QWERTZ", "German QWERTZ, caps lock") or "-" in token:
        assert normalize_scanned_text(typed + "\r\n") == token
        assert verify(RING, normalize_scanned_text(typed)) == token.split(".")[2]


def test_german_layout_without_a_dash_is_ambiguous_and_the_signature_decides():
    token = sign(RING, "ZY7")
    typed = german(token)  # still has the token format: Y and Z merely swapped
    assert TOKEN_RE.match(typed)
    candidates = [text for _, text in token_candidates(typed)]
    assert candidates[0] == typed and token in candidates
    genuine = []
    for text in candidates:
        with contextlib.suppress(ValueError):
            genuine.append(verify(RING, text))
    assert genuine == ["ZY7"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        (TOKENS[0] + "\r\n", TOKENS[0]),
        ("\t" + TOKENS[0] + "\t", TOKENS[0]),
        ("\x02" + TOKENS[0] + "\x03", TOKENS[0]),  # STX / ETX framing
        ("\ufeff" + TOKENS[0] + "\u200b", TOKENS[0]),  # BOM, zero-width space
        ("]Q1" + TOKENS[0] + "\r", TOKENS[0]),  # AIM symbology identifier for QR
        (TOKENS[0][:10] + " " + TOKENS[0][10:], TOKENS[0]),  # a stray space inside
        (TOKENS[0].lower() + "\n", TOKENS[0]),
        # Not tokens: cleaned, but case and inner spaces are left alone.
        ("https://example.org/a b?x=1\r\n", "https://example.org/a b?x=1"),
        ("hello World\n", "hello World"),
        ("]Q1hello", "]Q1hello"),
        ("ANC1.K1.2027-0123-01.TOOSHORT\r", "ANC1.K1.2027-0123-01.TOOSHORT"),
        ("收据 123\r\n", "收据 123"),
        ("", ""),
        ("\r\n\t ", ""),
        ("\x00\x1b[A", "[A"),
    ],
)
def test_cleaning(raw, expected):
    assert normalize_scanned_text(raw) == expected


def test_over_long_input_is_cleaned_but_not_repaired():
    raw = TOKENS[0].lower() + " " * 5000 + "\r\n"
    assert normalize_scanned_text(raw) == TOKENS[0].lower()


def test_upper_does_not_invent_letters():
    # str.upper("ß") is "SS": a German "-" must not become "SS" and pass as a token.
    typed = german(TOKENS[0])
    assert [text for _, text in token_candidates(typed)] == [TOKENS[0]]


def test_german_caps_lock_on_linux_gives_capital_sharp_s():
    typed = caps_lock(german(TOKENS[0])).replace("ß", "ẞ")
    assert normalize_scanned_text(typed) == TOKENS[0]


def test_clean_scanned_text_keeps_content():
    assert clean_scanned_text(" \tA b\r\n") == "A b"
