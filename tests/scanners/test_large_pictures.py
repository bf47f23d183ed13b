"""Large photos are read reduced first and in full only when needed; what cannot be afforded is refused."""

import io

import pytest
from PIL import Image

from scanners import decoding
from scanners.decoding import ImageError, decode_bytes, decode_image

from ._images import encode, label_image


def desk(size, *labels_at) -> Image.Image:
    image = Image.new("RGB", size, (140, 130, 120))
    for picture, at in labels_at:
        image.paste(picture, at)
    return image


def test_a_12_megapixel_photo_is_read_from_the_reduced_picture(label):
    data = encode(desk((4000, 3000), (label_image(label, width=1600), (900, 700))), quality=85)
    texts, step = decode_bytes(data)
    assert texts == [label.token] and step == "work/zxing"


def test_a_label_too_small_for_the_reduced_picture_is_found_in_full(label, monkeypatch):
    data = encode(desk((4000, 3000), (label_image(label, width=200), (3000, 2400))), quality=92)
    opened = []
    real_open = decoding.open_image
    monkeypatch.setattr(decoding, "open_image", lambda d, side=None: opened.append(side) or real_open(d, side))
    texts, step = decode_bytes(data)
    assert texts == [label.token]
    assert step.startswith("full/") and opened == [None]  # reopened once, at full size


def test_a_photo_of_30_megapixels_is_afforded_as_a_jpeg(label):
    data = encode(desk((6400, 4800), (label_image(label, width=2400), (1500, 1200))), quality=80)
    assert decode_image(data) == [label.token]


def test_a_large_png_is_refused_from_its_header_before_any_pixel_is_decoded(monkeypatch):
    bomb = io.BytesIO()
    Image.new("RGBA", (7000, 7000), (255, 255, 255, 0)).save(bomb, format="PNG")
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self) or None)
    with pytest.raises(ImageError) as refused:
        decode_image(bomb.getvalue())
    assert refused.value.reason == "too_large" and "16" in str(refused.value)
    assert decoded == []


def test_a_transparent_png_within_the_limit_is_read_on_white(label):
    picture = label_image(label, width=600).convert("RGBA")
    canvas = Image.new("RGBA", (3000, 2000), (0, 0, 0, 0))
    canvas.paste(picture, (400, 300))
    assert decode_image(encode(canvas, "PNG")) == [label.token]
