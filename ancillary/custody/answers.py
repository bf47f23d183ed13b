"""A scan's answer, written out by hand for the hot path.

``ScanResultSchema`` documents the shape and answers the scan station's list; a scan's own
answer is built here directly: marshmallow's walk over the fields (and the nested holder)
cost a scan more than the answer itself. ``tests/custody/test_scan_answer.py`` holds the
two to the same output, field for field.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ancillary.custody.services import Recorded


def _local(value: datetime | None, tz: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat()


def recorded(scan: Recorded, tz: ZoneInfo) -> dict:
    """``ScanResultSchema().dump(...)`` of a new scan, from what it wrote."""
    holder = scan.holder
    return {
        "dossier_id": scan.dossier_id, "code": scan.code, "case_number": scan.case_number, "volume": scan.volume,
        "action": scan.action.value,
        "holder": {"id": holder[0], "username": holder[1], "display_name": holder[2]} if holder else None,
        "location": scan.location, "seq": scan.seq, "hash": scan.hash, "conflict": scan.conflict,
        "scanned_at": _local(scan.device_at, tz), "recorded_at": _local(scan.server_at, tz), "typed": scan.typed,
    }


def shown(body: dict, tz: ZoneInfo) -> dict:
    """``ScanResultSchema().dump(body)`` of a scan body (a replay's): its two instants in court time."""
    return {**body, "scanned_at": _local(body["scanned_at"], tz), "recorded_at": _local(body["recorded_at"], tz)}
