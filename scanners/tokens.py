"""Signed dossier tokens, the text inside every dossier's QR code.

Format (ASCII only, and only characters of the QR alphanumeric mode, so the code
stays small and every decoder reads it the same way)::

    ANC1.<KID>.<CODE>.<SIG>

- ``ANC1``  format marker and version;
- ``KID``   key id, ``[A-Z0-9]{1,8}``: which secret signed the token, so keys rotate
            (old labels keep verifying while their key is still configured);
- ``CODE``  the dossier code, ``[A-Z0-9-]{1,32}``;
- ``SIG``   the first 15 bytes of HMAC-SHA256(secret, "ANC1.<KID>.<CODE>") in
            RFC 4648 base32 without padding (24 characters, 120 bits).

A label whose code or key id was altered, or that was signed with an unknown key,
fails :func:`verify`.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass

PREFIX = "ANC1"
SIG_BYTES = 15
KID_RE = re.compile(r"^[A-Z0-9]{1,8}$")
CODE_RE = re.compile(r"^[A-Z0-9-]{1,32}$")
TOKEN_RE = re.compile(r"^ANC1\.([A-Z0-9]{1,8})\.([A-Z0-9-]{1,32})\.([A-Z2-7]{24})$")
MAX_TOKEN_LENGTH = 4 + 1 + 8 + 1 + 32 + 1 + 24


class TokenError(ValueError):
    """A token that is malformed, signed with an unknown key, or forged."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # malformed | unknown_key | bad_signature


@dataclass(frozen=True)
class Keyring:
    """Key id -> secret; ``signing_kid`` signs new tokens, every key verifies."""

    keys: dict[str, bytes]
    signing_kid: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a keyring needs at least one key")
        for kid, secret in self.keys.items():
            if not KID_RE.match(kid):
                raise ValueError(f"key id {kid!r} must be 1-8 characters A-Z or 0-9")
            if len(secret) < 16:
                raise ValueError(f"the secret of key {kid!r} must be at least 16 bytes")
        if self.signing_kid not in self.keys:
            raise ValueError(f"signing key {self.signing_kid!r} is not in the keyring")

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Read ``KID:SECRET[,KID:SECRET...]``; the first key signs new tokens."""
        keys: dict[str, bytes] = {}
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            kid, sep, secret = part.partition(":")
            if not sep or not kid.strip() or not secret.strip():
                raise ValueError("ANCILLARY_QR_KEYS must look like 'K1:secret,K0:oldsecret'")
            keys[kid.strip().upper()] = secret.strip().encode()
        if not keys:
            raise ValueError("ANCILLARY_QR_KEYS names no key")
        return cls(keys=keys, signing_kid=next(iter(keys)))


def _signature(secret: bytes, kid: str, code: str) -> str:
    mac = hmac.digest(secret, f"{PREFIX}.{kid}.{code}".encode("ascii"), "sha256")  # one call, in C
    return base64.b32encode(mac[:SIG_BYTES]).decode("ascii")


def sign(keyring: Keyring, code: str) -> str:
    """Return the token for dossier ``code``, signed with the keyring's signing key."""
    if not CODE_RE.match(code):
        raise ValueError(f"dossier code {code!r} must be 1-32 characters A-Z, 0-9 or '-'")
    kid = keyring.signing_kid
    return f"{PREFIX}.{kid}.{code}.{_signature(keyring.keys[kid], kid, code)}"


def verify(keyring: Keyring, token: str) -> str:
    """Return the dossier code of a genuine token, else raise :class:`TokenError`."""
    match = TOKEN_RE.match(token)
    if not match:
        raise TokenError("malformed", "not a dossier label of this court")
    kid, code, sig = match.groups()
    secret = keyring.keys.get(kid)
    if secret is None:
        raise TokenError("unknown_key", f"label signed with unknown key {kid}")
    if not hmac.compare_digest(sig, _signature(secret, kid, code)):
        raise TokenError("bad_signature", "label signature does not match: forged or altered")
    return code
