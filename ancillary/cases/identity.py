"""Chinese identity numbers: resident ID (GB 11643) and unified social credit code (GB 32100)."""

from __future__ import annotations

import re

from ancillary.cases.models import PersonKind

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def resident_id_check(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=False)) % 11]


def uscc_check(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=False))
    return _USCC_CHARS[(31 - total % 31) % 31]


def classify(id_number: str) -> PersonKind | None:
    """Return the kind of a valid ID number, or None when its check digit is wrong."""
    value = id_number.upper()
    if re.fullmatch(r"\d{17}[\dX]", value) and resident_id_check(value[:17]) == value[17]:
        return PersonKind.person
    if re.fullmatch(f"[{_USCC_CHARS}]{{18}}", value) and uscc_check(value[:17]) == value[17]:
        return PersonKind.company
    if re.fullmatch(r"[A-Z0-9]{5,20}", value) and not re.fullmatch(r"[\dX]{18}", value):
        # Passports and other documents: accepted, identified as they are written.
        return PersonKind.other
    return None
