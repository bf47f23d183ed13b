"""Photo evidence: check an upload is a whole, sane image, read its EXIF GPS position and
time, and keep the original bytes under the storage folder by their SHA-256.

Refused (4xx): anything Pillow cannot identify as JPEG/PNG/WebP, truncated files, images
over the pixel limit (decompression bombs are refused from the header, before any pixel
is decoded), and EXIF GPS that cannot be a place on Earth. Flagged, not refused: no GPS,
no time, far from the address, older than the limit — a clerk's photo is still evidence,
and a judge weighs the flags.

Stored file: key ``service/<sha[:2]>/<sha256>.<ext>`` in the storage (``ancillary/storage.py``,
a folder or an object store; the name is the content hash, so a retried upload adds nothing),
put there only once the attempt that names it is committed.

A camera whose clock was never set writes dates such as year 1: a time outside 2000-2100 is
no time at all (flag ``time_invalid``), like a photo without one.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, UnidentifiedImageError

from ancillary.errors import DomainError, Invalid

FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
TAG_DATETIME = 306
TAG_DATETIME_ORIGINAL = 36867
TAG_OFFSET_TIME_ORIGINAL = 36881
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # the same sane range as every date the API reads


class TooLarge(DomainError):
    status = 413


@dataclass
class Photo:
    content: bytes
    sha256: str
    mime: str
    extension: str
    width: int
    height: int
    latitude: float | None = None
    longitude: float | None = None
    taken_at: datetime | None = None
    flags: list[str] = field(default_factory=list)


def inspect_photo(content: bytes, *, max_bytes: int, max_pixels: int, tz: ZoneInfo) -> Photo:
    """Check ``content`` is a whole image within limits and read its EXIF position and time."""
    if len(content) > max_bytes:
        raise TooLarge("photo_too_large", "the photo is larger than {limit} MB", field="photo",
                       limit=max_bytes // (1024 * 1024))
    if not content:
        raise Invalid("photo_empty", "the photo file is empty", field="photo")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content))
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            if isinstance(exc, UnidentifiedImageError):
                raise Invalid("not_an_image", "the photo is not a JPEG, PNG or WebP image", field="photo") from exc
            raise TooLarge("photo_too_many_pixels", "the photo has more than {limit} pixels", field="photo",
                           limit=max_pixels) from exc
        except OSError as exc:
            raise Invalid("photo_unreadable", "the photo cannot be read: it is damaged", field="photo") from exc
        with image:
            if image.format not in FORMATS:
                raise Invalid("not_an_image", "the photo is not a JPEG, PNG or WebP image", field="photo")
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise TooLarge("photo_too_many_pixels", "the photo has more than {limit} pixels", field="photo",
                               limit=max_pixels)
            try:
                image.load()  # decodes every pixel: a truncated file fails here
                exif = image.getexif()
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
                raise Invalid("photo_truncated", "the photo is truncated or damaged", field="photo") from exc
            mime, extension = FORMATS[image.format]
    photo = Photo(content=content, sha256=hashlib.sha256(content).hexdigest(), mime=mime, extension=extension,
                  width=width, height=height)
    photo.latitude, photo.longitude = _gps(exif)
    if photo.latitude is None:
        photo.flags.append("no_gps")
    try:
        photo.taken_at = _taken_at(exif, tz)
    except ValueError:
        photo.flags.append("time_invalid")
    else:
        if photo.taken_at is None:
            photo.flags.append("no_time")
    return photo


def _rational(value) -> float:
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError("not a number")
    return number


def _degrees(dms, ref: str, positive: str, negative: str, limit: float) -> float:
    if isinstance(dms, (int, float)) or not hasattr(dms, "__len__"):
        dms = (dms, 0, 0)
    if len(dms) != 3:
        raise ValueError("degrees, minutes, seconds expected")
    degrees, minutes, seconds = (_rational(v) for v in dms)
    if not (0 <= degrees <= limit and 0 <= minutes < 60 and 0 <= seconds < 60):
        raise ValueError("out of range")
    value = degrees + minutes / 60 + seconds / 3600
    ref = (ref or "").strip().upper().rstrip("\x00")
    if ref not in (positive, negative):
        raise ValueError("bad reference")
    if value > limit:
        raise ValueError("out of range")
    return -value if ref == negative else value


def _gps(exif) -> tuple[float | None, float | None]:
    """Decimal degrees from the GPS IFD; (None, None) when absent, 422 when nonsense."""
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # noqa: BLE001 - Pillow raises assorted errors on a mangled IFD
        gps = None
    if not gps or (2 not in gps and 4 not in gps):
        return None, None
    try:
        latitude = _degrees(gps.get(2), gps.get(1), "N", "S", 90)
        longitude = _degrees(gps.get(4), gps.get(3), "E", "W", 180)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise Invalid("photo_gps_invalid", "the photo's GPS position is not a place on Earth", field="photo") from exc
    return round(latitude, 7), round(longitude, 7)


def _taken_at(exif, tz: ZoneInfo) -> datetime | None:
    """DateTimeOriginal (with OffsetTimeOriginal when given, else court time), as aware."""
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:  # noqa: BLE001
        sub = {}
    raw = sub.get(TAG_DATETIME_ORIGINAL) or exif.get(TAG_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if not EARLIEST_YEAR <= naive.year <= LATEST_YEAR:
        raise ValueError("the camera's clock was not set")
    offset = sub.get(TAG_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str):
        try:
            return datetime.fromisoformat(naive.isoformat() + offset.strip().rstrip("\x00"))
        except ValueError:
            pass
    return naive.replace(tzinfo=tz)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine, mean Earth radius)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def place_and_age_flags(photo: Photo, *, address_position: tuple[float, float] | None, attempted_at: datetime,
                        max_distance_m: float, max_age: timedelta) -> tuple[list[str], float | None]:
    """Flags for where and when the photo was taken, and its distance from the address."""
    flags = list(photo.flags)
    distance = None
    if photo.latitude is not None:
        if address_position is None:
            flags.append("address_not_located")
        else:
            distance = round(distance_m(photo.latitude, photo.longitude, *address_position), 1)
            if distance > max_distance_m:
                flags.append("far_from_address")
    if photo.taken_at is not None:
        if attempted_at - photo.taken_at > max_age:
            flags.append("older_than_limit")
        elif photo.taken_at - attempted_at > timedelta(hours=1):
            flags.append("taken_after_attempt")
    return flags, distance


def storage_key(photo: Photo) -> str:
    """Where the original is kept in the storage: named by its hash."""
    return f"service/{photo.sha256[:2]}/{photo.sha256}{photo.extension}"


def read_stored(storage, key: str) -> bytes | None:
    return storage.get(key)
