import pytest

from scanners.tokens import Keyring, TokenError, sign, verify

RING = Keyring.parse("K2:second-secret-0123456789,K1:first-secret-0123456789")


def test_round_trip_uses_first_key():
    token = sign(RING, "DS0000001-01")
    assert token.startswith("ANC1.K2.DS0000001-01.")
    assert verify(RING, token) == "DS0000001-01"


def test_rotated_key_still_verifies_old_labels():
    old = Keyring.parse("K1:first-secret-0123456789")
    assert verify(RING, sign(old, "DS7-01")) == "DS7-01"


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda t: t.replace("DS0000001-01", "DS0000002-01"), "bad_signature"),
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "bad_signature"),
        (lambda t: t.replace(".K2.", ".K9."), "unknown_key"),
        (lambda t: t.lower(), "malformed"),
        (lambda t: t + "\x00", "malformed"),
        (lambda t: "", "malformed"),
    ],
)
def test_altered_tokens_are_refused(mutate, reason):
    token = sign(RING, "DS0000001-01")
    with pytest.raises(TokenError) as err:
        verify(RING, mutate(token))
    assert err.value.reason == reason


def test_bad_keyring_text_is_refused():
    for text in ["", "nokey", "K1:short", "bad id:0123456789abcdef"]:
        with pytest.raises(ValueError):
            Keyring.parse(text)
