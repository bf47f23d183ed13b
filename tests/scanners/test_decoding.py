import io
import struct
import time
import zlib

import pytest
import qrcode
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from scanners import decoding
from scanners.decoding import ImageError, decode_image, open_image

from ._images import encode, label_image, make_label


def frame(size=(960, 540), colour=(120, 110, 100)) -> Image.Image:
    """A desk-like background with a few shapes on it."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x, y = (i * 173) % size[0], (i * 97) % size[1]
        draw.rectangle((x, y, x + 60 + i * 7, y + 15 + i * 3), fill=((i * 40) % 256, 80, 200 - i * 10))
    return image


def photo(*pictures: Image.Image, size=(960, 540), angle: float = 0.0) -> Image.Image:
    """Paste label pictures side by side on a frame, optionally rotated."""
    out = frame(size)
    x = 20
    for picture in pictures:
        mask = Image.new("L", picture.size, 255)
        if angle:
            picture = picture.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
            mask = mask.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
        out.paste(picture, (x, 40), mask)
        x += picture.width + 20
    return out


@pytest.fixture
def picture(label):
    return label_image(label, width=420)


def test_clean_jpeg_photo(label, picture):
    assert decode_image(encode(photo(picture), quality=85)) == [label.token]


@pytest.mark.parametrize("angle", [8, 27, 90, 180])
def test_rotated(label, picture, angle):
    assert decode_image(encode(photo(picture, angle=angle))) == [label.token]


def test_perspective(label, picture):
    w, h = picture.size
    # Far edge 30% narrower: the card tilted away from the camera.
    coeffs = _perspective([(0, 0), (w, 0), (w, h), (0, h)], [(0.15 * w, 0), (0.85 * w, 0), (w, h), (0, h)])
    warped = picture.transform(picture.size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC,
                               fillcolor=(255, 255, 255))
    assert decode_image(encode(photo(warped))) == [label.token]


def _perspective(src, dst):
    import numpy as np

    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return list(np.linalg.solve(np.array(rows, float), np.array(rhs, float)))


def test_blurred_and_heavily_compressed(label, picture):
    blurred = photo(picture).filter(ImageFilter.GaussianBlur(2))
    assert decode_image(encode(blurred, quality=20)) == [label.token]


def test_dim_and_uneven_light(label, picture):
    grey = photo(picture).convert("L")
    ramp = Image.linear_gradient("L").resize(grey.size).rotate(90)  # dark on one side
    lit = Image.composite(grey.point(lambda v: v * 0.08), grey.point(lambda v: v * 0.6), ramp)
    assert lit.getextrema()[1] < 160
    assert decode_image(encode(lit, quality=90)) == [label.token]


def test_inverted_white_on_black(label, picture):
    assert decode_image(encode(photo(ImageOps.invert(picture)))) == [label.token]


def test_mirrored(label, picture):
    assert decode_image(encode(photo(ImageOps.mirror(picture)))) == [label.token]


def test_several_codes_in_one_picture():
    labels = [make_label(f"2027-000{i}-01") for i in range(3)]
    pictures = [label_image(lab, width=300) for lab in labels]
    found = decode_image(encode(photo(*pictures, size=(1000, 400))))
    assert sorted(found) == sorted(lab.token for lab in labels)


def test_same_code_twice_is_reported_once(label, picture):
    assert decode_image(encode(photo(picture, picture, size=(960, 540)))) == [label.token]


def test_small_label_in_a_large_phone_photo(label):
    big = frame((4000, 3000))
    big.paste(label_image(label, width=700), (2500, 1900))
    assert decode_image(encode(big, quality=80)) == [label.token]


def test_exif_orientation_is_honoured(label, picture):
    upright = photo(picture)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # how the sensor saved it
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 CW to display
    data = encode(stored, exif=exif)
    assert open_image(data).size == upright.size
    assert decode_image(data) == [label.token]


def test_transparent_png_is_read_on_white(label):
    # The QR's light modules are transparent, over black stored colour: on white it decodes.
    grey = label_image(label, width=420).convert("L")
    rgba = Image.new("RGBA", grey.size, (0, 0, 0, 0))
    rgba.putalpha(ImageOps.invert(grey))
    assert decode_image(encode(rgba, "PNG")) == [label.token]


def test_sixteen_bit_grey_png(label):
    grey = label_image(label, width=420).convert("L")
    deep = grey.convert("I").point(lambda v: v * 256).convert("I;16")
    assert decode_image(encode(deep, "PNG")) == [label.token]


def test_codes_of_other_systems_come_back_as_text():
    url = qrcode.make("https://example.org/收据?id=7", border=4).get_image().convert("L")
    assert decode_image(encode(url, "PNG")) == ["https://example.org/收据?id=7"]


@pytest.mark.parametrize("size", [(960, 540), (1920, 1080)])
def test_no_code_is_empty_and_fast(size):
    data = encode(frame(size))
    start = time.perf_counter()
    assert decode_image(data) == []
    assert time.perf_counter() - start < 2.0


def test_text_without_a_code_is_empty():
    card = frame()
    ImageDraw.Draw(card).text((40, 40), "ANC1.K1.2027-0001-01", fill=(0, 0, 0))
    assert decode_image(encode(card)) == []


# --- bad input -----------------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with a tiny (wrong) body: no memory needed."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"hello, this is not a picture", "not_an_image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not_an_image"),
        (_png_header_only(10_000, 10_000), "too_large"),
        (_png_header_only(60_000, 60_000), "too_large"),  # past Pillow's own bomb limit too
    ],
)
def test_unreadable_input_raises_a_clear_error(data, reason):
    with pytest.raises(ImageError) as info:
        decode_image(data)
    assert info.value.reason == reason
    assert str(info.value)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_upload(label, picture, fmt):
    data = encode(photo(picture), fmt)
    with pytest.raises(ImageError) as info:
        decode_image(data[: len(data) // 2])
    assert info.value.reason == "truncated"


def test_upload_over_the_byte_limit(monkeypatch, label, picture):
    data = encode(photo(picture))
    monkeypatch.setattr(decoding, "MAX_BYTES", len(data) - 1)
    with pytest.raises(ImageError) as info:
        decode_image(data)
    assert info.value.reason == "too_large"


def test_pixel_limit_is_checked_before_decoding(monkeypatch, label, picture):
    monkeypatch.setattr(decoding, "MAX_PIXELS", 100_000)
    with pytest.raises(ImageError) as info:
        decode_image(encode(photo(picture)))  # 960 x 540 > 100 000 pixels
    assert info.value.reason == "too_large"


def test_image_error_is_a_value_error_with_a_known_reason():
    assert issubclass(ImageError, ValueError)
    with pytest.raises(ValueError):
        ImageError("whatever", "no such reason")


@pytest.mark.parametrize("pipeline", ["zbar", "combined"])
def test_other_pipelines_read_the_same_label(label, picture, pipeline):
    assert decode_image(encode(photo(picture)), pipeline) == [label.token]
    assert decode_image(encode(photo(ImageOps.invert(picture))), pipeline) == [label.token]


def test_unknown_pipeline_is_refused(label, picture):
    with pytest.raises(ValueError, match="pipeline"):
        decode_image(encode(photo(picture)), "opencv")


def test_cmyk_jpeg_and_animated_gif(label, picture):
    assert decode_image(encode(photo(picture).convert("CMYK"))) == [label.token]
    first = photo(picture).convert("P")
    second = frame().convert("P")
    gif = io.BytesIO()
    first.save(gif, format="GIF", save_all=True, append_images=[second], duration=100)
    assert decode_image(gif.getvalue()) == [label.token]


def test_a_bare_header_is_truncated_not_a_crash(label, picture):
    data = encode(photo(picture), "PNG")
    with pytest.raises(ImageError) as info:
        decode_image(data[:60])
    assert info.value.reason == "truncated"
