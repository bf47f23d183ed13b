"""Find QR codes in uploaded pictures: scans, screenshots and phone photos.

:func:`decode_image` opens the bytes with Pillow (with limits: see :class:`ImageError`),
turns the picture upright from its EXIF orientation, then runs a short, fixed pipeline of
preprocessing steps, cheapest first, and stops at the first step that finds a code. A picture
without a code therefore costs every step once and no more.

Two engines can run the pipeline: ZXing-C++ (``zxingcpp``, the default) and zbar (through
pyzbar). On the synthetic phone photos of ``bench/decode_bench.py`` ZXing-C++ alone read at
least every picture zbar read, three times faster, and adding zbar as a fallback found
nothing more (figures in docs/scanners.md); so zbar stays available as the ``zbar`` and
``combined`` pipelines, imported only when used, and not in the default path.
Every text found is returned, tokens of this system or not: the caller verifies tokens.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

MAX_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo is the largest picture we expect
# Pictures only Pillow's full decode can open (PNG, GIF, ...) cost several bytes a pixel in
# memory at once; JPEG photos are decoded already scaled down (draft mode), so the larger
# limit above is affordable for them only. 16 MP covers a 4000 x 4000 screenshot or scan.
MAX_FULL_DECODE_PIXELS = 16_000_000
ORIENTATION = 0x0112  # the EXIF tag
WORK_SIDE = 1600  # the first steps look at the picture scaled down to this longest side
FULL_SIDE = 4000  # the largest side ever handed to a decoder
class ImageError(ValueError):
    """Uploaded bytes that are not a picture we can read."""

    REASONS = frozenset({"empty", "not_an_image", "truncated", "too_large", "unreadable"})

    def __init__(self, reason: str, message: str):
        if reason not in self.REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(message)
        self.reason = reason


# --- opening -------------------------------------------------------------------------------


def open_image(data: bytes, side: int | None = None) -> Image.Image:
    """Return the picture in ``data`` upright and in 8-bit grey, else raise :class:`ImageError`.

    With ``side``, a JPEG is decoded already reduced (by 1/2, 1/4 or 1/8, never below
    ``side`` on its longest edge): a fraction of the time and memory of the full picture.
    """
    return _open(data, side)[0]


def _open(data: bytes, side: int | None) -> tuple[Image.Image, bool]:
    """The upright grey picture, and whether it was decoded reduced."""
    image = _open_checked(data)
    reduced = False
    if image.format == "JPEG":
        goal = min(side or FULL_SIDE, FULL_SIDE)
        if max(image.size) > goal:
            full_size = image.size
            factor = goal / max(image.size)
            image.draft("L", (max(1, int(image.width * factor)), max(1, int(image.height * factor))))
            reduced = image.size != full_size
    elif image.width * image.height > MAX_FULL_DECODE_PIXELS:
        raise ImageError("too_large", _too_many_pixels(MAX_FULL_DECODE_PIXELS))
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("too_large", _too_many_pixels()) from None
    except Exception as exc:
        if isinstance(exc, EOFError) or "truncated" in str(exc):
            raise ImageError("truncated", "the picture is incomplete (truncated upload)") from None
        raise ImageError("unreadable", f"the picture cannot be read: {exc}") from None
    try:
        if image.getexif().get(ORIENTATION, 1) != 1:  # exif_transpose copies even an upright picture
            image = ImageOps.exif_transpose(image)
        return _to_grey(image), reduced
    except Exception as exc:  # broken EXIF or an exotic pixel format
        raise ImageError("unreadable", f"the picture cannot be read: {exc}") from None


def _open_checked(data: bytes) -> Image.Image:
    """Read only the header, and refuse what is empty, unknown or too large before any pixel."""
    if not data:
        raise ImageError("empty", "the upload is empty")
    if len(data) > MAX_BYTES:
        raise ImageError("too_large", f"the picture is larger than {MAX_BYTES // 2**20} MB")
    # Pillow itself warns past 89 megapixels and fails past twice that; the warning is left to
    # the process's filters (an error under pytest) rather than changed here, because
    # warnings.catch_warnings() is not thread-safe. Either way the answer is "too large".
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError("not_an_image", "the upload is not a picture in a known format") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("too_large", _too_many_pixels()) from None
    except Exception as exc:  # a broken header makes some plugins fail in their own way
        raise ImageError("unreadable", f"the picture cannot be read: {exc}") from None
    if image.width * image.height > MAX_PIXELS:
        raise ImageError("too_large", _too_many_pixels())
    if image.width < 1 or image.height < 1:
        raise ImageError("unreadable", "the picture has no pixels")
    return image


def _too_many_pixels(limit: int | None = None) -> str:
    return f"the picture has more than {(limit or MAX_PIXELS) // 1_000_000} megapixels"


def _to_grey(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels are whatever colour was stored under them: put them on white.
        # Grey and alpha, one byte a pixel each, pasted on white: no second RGBA copy.
        if image.mode != "RGBA" and image.mode != "LA":
            image = image.convert("RGBA")
        alpha = image.getchannel("A")
        grey = image.convert("L")
        white = Image.new("L", image.size, 255)
        white.paste(grey, mask=alpha)
        return white
    if image.mode == "I" or image.mode.startswith("I;16"):
        image = image.convert("I").point(lambda v: v / 256)  # 16-bit grey down to 8 bits
    return image.convert("L")


# --- engines -------------------------------------------------------------------------------


def _zbar(image: Image.Image) -> list[str]:
    from pyzbar import pyzbar

    found = pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])
    # zbar hands back bytes; tokens are ASCII, other systems' codes are most often UTF-8.
    return [r.data.decode("utf-8", errors="replace") for r in found]


def _zxing(image: Image.Image, binarizer: str = "LocalAverage") -> list[str]:
    import zxingcpp

    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCode, binarizer=getattr(zxingcpp.Binarizer, binarizer)
    )
    return [r.text for r in found if r.valid]


# --- the pipeline --------------------------------------------------------------------------


def _scaled(image: Image.Image, side: int) -> Image.Image:
    if max(image.size) <= side:
        return image
    factor = side / max(image.size)
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BOX)


def _flatten_light(image: Image.Image) -> Image.Image:
    """Divide out a blurred copy: evens out shadows and gradients, then stretch contrast."""
    import numpy as np

    small = image.resize((max(1, image.width // 8), max(1, image.height // 8)), Image.Resampling.BOX)
    background = small.filter(ImageFilter.GaussianBlur(6)).resize(image.size, Image.Resampling.BILINEAR)
    ratio = np.asarray(image, np.float32) / (np.asarray(background, np.float32) + 1.0)
    flat = Image.fromarray(np.clip(ratio * 200.0, 0, 255).astype(np.uint8), "L")
    return ImageOps.autocontrast(flat, cutoff=1)


# Pictures the steps look at, each made from the upright grey picture (and cached per call).
_PICTURES: dict[str, Callable[[Image.Image], Image.Image]] = {
    "work": lambda im: _scaled(im, WORK_SIDE),
    "full": lambda im: _scaled(im, FULL_SIDE),
    "contrast": lambda im: ImageOps.autocontrast(_scaled(im, WORK_SIDE), cutoff=1),
    "flatten": lambda im: _flatten_light(_scaled(im, WORK_SIDE)),
    "sharpen": lambda im: _scaled(im, WORK_SIDE).filter(ImageFilter.UnsharpMask(radius=5, percent=300, threshold=0)),
    "invert": lambda im: ImageOps.invert(_scaled(im, WORK_SIDE)),
    "mirror": lambda im: ImageOps.mirror(_scaled(im, WORK_SIDE)),
    "invert_mirror": lambda im: ImageOps.invert(ImageOps.mirror(_scaled(im, WORK_SIDE))),
    "half": lambda im: _scaled(im, max(im.size) // 2),
}


@dataclass(frozen=True)
class Step:
    picture: str  # a key of _PICTURES
    engine: str  # zxing | zbar
    binarizer: str = "LocalAverage"  # zxing only

    @property
    def name(self) -> str:
        suffix = "" if self.binarizer == "LocalAverage" else f"+{self.binarizer}"
        return f"{self.picture}/{self.engine}{suffix}"

    def run(self, picture: Image.Image) -> list[str]:
        if self.engine == "zxing":
            return _zxing(picture, self.binarizer)
        return _zbar(picture)


# ZXing-C++ already tries inverted, mirrored, rotated and downscaled codes itself; zbar needs
# an explicit picture for inverted and mirrored codes. Cheapest and most often useful first.
ZXING_STEPS: tuple[Step, ...] = (
    Step("work", "zxing"),
    Step("work", "zxing", "FixedThreshold"),
    Step("full", "zxing"),
    Step("contrast", "zxing"),
    Step("flatten", "zxing"),
    Step("sharpen", "zxing"),
)
ZBAR_STEPS: tuple[Step, ...] = (
    Step("work", "zbar"),
    Step("full", "zbar"),
    Step("invert", "zbar"),
    Step("contrast", "zbar"),
    Step("flatten", "zbar"),
    Step("mirror", "zbar"),
    Step("invert_mirror", "zbar"),
    Step("sharpen", "zbar"),
    Step("half", "zbar"),
)
# Both: the ZXing pipeline, then zbar's two cheapest looks as a last resort.
COMBINED_STEPS: tuple[Step, ...] = ZXING_STEPS + (Step("work", "zbar"), Step("invert", "zbar"))

PIPELINES: dict[str, tuple[Step, ...]] = {"zxing": ZXING_STEPS, "zbar": ZBAR_STEPS, "combined": COMBINED_STEPS}
DEFAULT_PIPELINE = "zxing"


# Steps that need every pixel: on a picture decoded reduced they reopen it in full.
FULL_PICTURES = frozenset({"full", "half"})


def decode_grey(image: Image.Image, pipeline: str = DEFAULT_PIPELINE,
                full: Callable[[], Image.Image] | None = None) -> tuple[list[str], str | None]:
    """Run a pipeline on an upright grey picture; return the texts and the step that found them.

    ``full`` gives the picture at full resolution when ``image`` was decoded reduced; it is
    called only if a step needs it.
    """
    try:
        steps = PIPELINES[pipeline]
    except KeyError:
        raise ValueError(f"pipeline must be one of {sorted(PIPELINES)}") from None
    pictures: dict[str, Image.Image] = {}
    for step in steps:
        if step.picture == "full" and full is None and max(image.size) <= WORK_SIDE:
            continue  # the work picture already has every pixel
        picture = pictures.get(step.picture)
        if picture is None:
            base = image
            if full is not None and step.picture in FULL_PICTURES:
                if "" not in pictures:
                    pictures[""] = full()
                base = pictures[""]
            picture = pictures[step.picture] = _PICTURES[step.picture](base)
        texts = _distinct(step.run(picture))
        if texts:
            return texts, step.name
    return [], None


def decode_image(data: bytes, pipeline: str = DEFAULT_PIPELINE) -> list[str]:
    """Return the distinct QR texts in the picture ``data`` ([] when there is none).

    Raises :class:`ImageError` when ``data`` is not a picture that can be read safely.
    """
    return decode_bytes(data, pipeline)[0]


def decode_bytes(data: bytes, pipeline: str = DEFAULT_PIPELINE) -> tuple[list[str], str | None]:
    """The texts in the picture ``data`` and the step that found them.

    A large JPEG is first decoded reduced to about the work size (most codes are found
    there); only if that finds nothing is it decoded again at up to ``FULL_SIDE``.
    """
    if pipeline not in PIPELINES:
        raise ValueError(f"pipeline must be one of {sorted(PIPELINES)}")
    image, reduced = _open(data, WORK_SIDE)
    return decode_grey(image, pipeline, full=(lambda: open_image(data)) if reduced else None)


def _distinct(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))
