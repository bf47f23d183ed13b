"""The postal carrier adapter: tracking-number shapes, and carrier events in one generic form.

A carrier reports the nodes of an envelope's journey by an HTTP webhook signed with a
shared secret (``X-Carrier-Signature: sha256=<hex HMAC-SHA256 of the body>``, the secret
in ``ANCILLARY_CARRIER_SECRET``), or in a CSV file for carriers without one. Both end
as :class:`CarrierEventIn`; only the event codes below mean something to the ladder.

Generic event codes:
    accepted, in_transit, out_for_delivery   progress, recorded only
    signed                                   the receipt is signed: served on that date
    unclaimed, returned                      back unclaimed: posting opens
    refused                                  the recipient refused the envelope: posting opens
    wrong_address, moved                     the address is bad: marked, the order is exhausted
                                             when no other address is left
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

# Per carrier: a regular expression for its tracking numbers. EMS (the seed's carrier)
# uses UPU S10 numbers (EA123456789CN, with a check digit) and 13-digit domestic ones.
TRACKING_SHAPES: dict[str, re.Pattern] = {
    "ems": re.compile(r"^(?:[A-Z]{2}\d{9}[A-Z]{2}|\d{13})$"),
    "other": re.compile(r"^[A-Z0-9]{8,30}$"),
}
DEFAULT_CARRIER = "ems"
PROGRESS_CODES = frozenset({"accepted", "in_transit", "out_for_delivery"})
FINAL_CODES = frozenset({"signed", "unclaimed", "returned", "refused", "wrong_address", "moved"})
EVENT_CODES = PROGRESS_CODES | FINAL_CODES
CSV_COLUMNS = ("tracking_number", "event_at", "code", "location", "description", "signed_by", "carrier")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
# No carrier event is older than this: a CSV row dated year 1 is a mistake, not a node.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def s10_check_digit(serial8: str) -> int:
    """UPU S10 check digit of the 8-digit serial."""
    check = 11 - sum(int(d) * w for d, w in zip(serial8, S10_WEIGHTS, strict=False)) % 11
    return {10: 0, 11: 5}.get(check, check)


def tracking_problem(carrier: str, number: str) -> str | None:
    """Why ``number`` is not a tracking number of ``carrier``, or None when it is one."""
    shape = TRACKING_SHAPES.get(carrier)
    if shape is None:
        return "unknown carrier"
    if not shape.match(number):
        return "wrong shape"
    if re.fullmatch(r"[A-Z]{2}\d{9}[A-Z]{2}", number) and s10_check_digit(number[2:10]) != int(number[10]):
        return "wrong check digit"
    return None


def normalize_tracking(number: str) -> str:
    return re.sub(r"[\s-]", "", number or "").upper()


@dataclass
class CarrierEventIn:
    tracking_number: str
    event_at: datetime
    code: str
    carrier: str = DEFAULT_CARRIER
    location: str | None = None
    description: str | None = None
    signed_by: str | None = None
