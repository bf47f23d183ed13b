import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, ImageDraw

from scanners import labels
from scanners.decoding import decode_image
from scanners.labels import (
    LabelFontError,
    LabelInfo,
    qr_matrix,
    render_label_png,
    render_label_sheet_pdf,
    render_label_svg,
)

from ._images import encode, make_label

SVG = "{http://www.w3.org/2000/svg}"


def test_png_label_decodes_back_to_its_token(label):
    data = render_label_png(label)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert round(image.info["dpi"][0]) == 300
    assert image.size == (827, 438)  # 70 x 37.125 mm at 300 dpi
    assert decode_image(data) == [label.token]


def test_png_label_survives_being_printed_small(label):
    # The label at a third of its size (about 100 dpi) still decodes.
    image = Image.open(io.BytesIO(render_label_png(label))).convert("L")
    small = image.resize((image.width // 3, image.height // 3), Image.Resampling.BOX)
    assert decode_image(encode(small, "PNG")) == [label.token]


def test_token_uses_a_small_alphanumeric_symbol(label):
    # 45 characters in alphanumeric mode fit version 3 (29 modules) + 2 x 4 quiet zone.
    assert len(qr_matrix(label.token)) == 29 + 8


def test_label_text_is_chinese():
    label = make_label(volume=2, kind_label="速裁")
    assert label.text_lines() == ["威海市环翠区人民法院", "(2027)鲁1002民初123号", "第 2 卷  速裁", "2027-0123-01"]


def test_svg_label_has_text_and_a_vector_qr_that_decodes(label):
    svg = render_label_svg(label)
    root = ET.fromstring(svg.encode())
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == label.text_lines()
    path = next(p for p in root.iter(f"{SVG}path") if p.get("data-role") == "qr")
    # Rasterise the vector path ourselves, one module = 8 px, and decode it.
    n = len(qr_matrix(label.token))
    image = Image.new("L", (n * 8, n * 8), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w in re.findall(r"M(\d+),(\d+)h(\d+)v1h-\d+z", path.get("d")):
        x, y, w = int(x), int(y), int(w)
        draw.rectangle((x * 8, y * 8, (x + w) * 8 - 1, y * 8 + 7), fill=0)
    assert decode_image(encode(image, "PNG")) == [label.token]


def test_svg_escapes_text():
    svg = render_label_svg(make_label(court_name="A&B <法院>"))
    assert "A&amp;B &lt;法院&gt;" in svg
    ET.fromstring(svg.encode())


needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdffonts")), reason="poppler-utils is not installed"
)


@needs_poppler
def test_pdf_sheet_prints_every_label_decodably_with_the_font_embedded(tmp_path):
    sheet = [make_label(f"2027-{i:04d}-01") for i in range(26)]  # a full page of 24 and 2 more
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(render_label_sheet_pdf(sheet))

    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    assert all(re.search(r"\byes\s+yes\s+yes\b", row) for row in rows), fonts  # embedded, subset, unicode
    assert "WenQuanYiMicroHei" in fonts

    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    first = set(decode_image(pages[0].read_bytes()))
    second = set(decode_image(pages[1].read_bytes()))
    assert first == {label.token for label in sheet[:24]}
    assert second == {label.token for label in sheet[24:]}


def test_pdf_is_reproducible(label):
    assert render_label_sheet_pdf([label]) == render_label_sheet_pdf([label])


def test_empty_sheet_is_refused():
    with pytest.raises(ValueError, match="at least one label"):
        render_label_sheet_pdf([])


@pytest.mark.parametrize("render", [render_label_png, render_label_sheet_pdf])
def test_missing_font_names_the_debian_package(tmp_path, label, render):
    arg = [label] if render is render_label_sheet_pdf else label
    with pytest.raises(LabelFontError, match="fonts-wqy-microhei"):
        render(arg, font_path=str(tmp_path / "missing.ttc"))


def test_default_font_is_the_packaged_one():
    assert labels.FONT_PATH.endswith("wqy-microhei.ttc")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"token": ""}, "token"),
        ({"token": "ANC1.K1.案卷.X"}, "ASCII"),
        ({"token": "A\nB"}, "ASCII"),
        ({"token": "A" * 300}, "token"),
        ({"volume": 0}, "volume"),
        ({"volume": True}, "volume"),
        ({"volume": "1"}, "volume"),
        ({"court_name": "  "}, "court_name"),
        ({"case_number": ""}, "case_number"),
        ({"dossier_code": None}, "dossier_code"),
    ],
)
def test_bad_label_fields_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_label(**overrides)


def test_label_info_is_frozen(label):
    with pytest.raises(AttributeError):
        label.volume = 3  # type: ignore[misc]
    assert isinstance(label, LabelInfo)
