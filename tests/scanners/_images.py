"""Helpers that build real label pictures for the scanner tests."""

import io

from PIL import Image

from scanners.labels import LabelInfo, render_label_png
from scanners.tokens import Keyring, sign

RING = Keyring.parse("K1:test-secret-0123456789abcdef")


def make_label(code: str = "2027-0123-01", volume: int = 1, **overrides) -> LabelInfo:
    fields = dict(
        token=sign(RING, code),
        court_name="威海市环翠区人民法院",
        case_number="(2027)鲁1002民初123号",
        volume=volume,
        dossier_code=code,
    )
    fields.update(overrides)
    return LabelInfo(**fields)


def label_image(label: LabelInfo, width: int | None = None) -> Image.Image:
    """Return the rendered PNG label as an RGB picture, scaled to ``width`` pixels if given."""
    image = Image.open(io.BytesIO(render_label_png(label))).convert("RGB")
    if width:
        image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()
