"""Walk the local checkpoint log line by line along its ``prev`` links.

Each line carries the SHA-256 of the line before it, and the newest line is signed (and
checked against its copies elsewhere by ``checkpoints.latest_checkpoint``). So when every
link holds, every earlier line is exactly as it was when the newest was signed: none edited,
removed, inserted or reordered. Hashing is enough: the signature of the newest line covers
the rest through the links.
"""

from __future__ import annotations

import hashlib
import json


def first_broken_link(lines: list[str]) -> int | None:
    """The number of the first checkpoint whose line does not follow the line before it, or
    None when the log holds checkpoints 1, 2, ... each linked to the one before."""
    previous = None
    for position, line in enumerate(lines, start=1):
        try:
            payload = json.loads(line)["payload"]
            number, prev = payload["number"], payload["prev"]
        except (ValueError, KeyError, TypeError):
            return position
        expected = hashlib.sha256(previous.encode()).hexdigest() if previous is not None else None
        if number != position or prev != expected:
            return number if isinstance(number, int) and number >= position else position
        previous = line
    return None
