"""Dossier labels: the QR code of a token plus its human-readable text in Chinese.

Three renderings share one layout (QR on the left, text lines on the right):

- :func:`render_label_png` -- one label as a 300 dpi PNG (Pillow);
- :func:`render_label_svg` -- one label as SVG, the QR drawn as vector paths;
- :func:`render_label_sheet_pdf` -- A4 sheets of 3 x 8 labels (reportlab), the QR drawn as
  vector rectangles and the CJK font embedded, so the sheet prints the same everywhere.

The QR uses error correction level M, a 4-module quiet zone and, for tokens (which only hold
characters of the QR alphanumeric set), alphanumeric mode, so a 45-character token fits a
version 3 symbol (29 x 29 modules) and stays readable when printed small.
"""

from __future__ import annotations

import functools
import io
import os
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FONT_PACKAGE = "fonts-wqy-microhei"
FONT_FAMILY = "WenQuanYi Micro Hei"
PDF_FONT_NAME = "WQYMicroHei"

QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 requires
MAX_TOKEN_LENGTH = 256
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]+$")

# One label on the sheet: A4 (210 x 297 mm) cut into 3 columns x 8 rows.
MM = 72 / 25.4  # PDF points per millimetre
SHEET_COLUMNS = 3
SHEET_ROWS = 8
LABEL_W_MM = 70.0
LABEL_H_MM = 297.0 / SHEET_ROWS  # 37.125
PNG_DPI = 300


class LabelFontError(RuntimeError):
    """The CJK font that labels embed is not installed."""


@dataclass(frozen=True)
class LabelInfo:
    """What one dossier label shows."""

    token: str  # the QR payload, normally a signed token (see scanners.tokens)
    court_name: str  # 威海市环翠区人民法院
    case_number: str  # (2027)鲁1002民初123号
    volume: int  # 1 -> 第 1 卷
    dossier_code: str  # printed under the QR for a person to read
    kind_label: str | None = None  # optional, e.g. 速裁

    def __post_init__(self) -> None:
        if not self.token or len(self.token) > MAX_TOKEN_LENGTH:
            raise ValueError(f"token must be 1-{MAX_TOKEN_LENGTH} characters")
        # Bytes above 127 get garbled by zbar (it guesses Shift-JIS), so QR payloads stay ASCII.
        if not _PRINTABLE_ASCII.match(self.token):
            raise ValueError("token must be printable ASCII")
        if isinstance(self.volume, bool) or not isinstance(self.volume, int) or self.volume < 1:
            raise ValueError("volume must be a positive integer")
        for name in ("court_name", "case_number", "dossier_code"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string")

    def text_lines(self) -> list[str]:
        """Return the human-readable lines, top to bottom."""
        volume = f"第 {self.volume} 卷"
        if self.kind_label:
            volume = f"{volume}  {self.kind_label}"
        return [self.court_name, self.case_number, volume, self.dossier_code]


def qr_matrix(token: str) -> list[list[bool]]:
    """Return the QR modules of ``token`` (True = dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(token)  # picks alphanumeric mode when every character allows it
    code.make(fit=True)
    return code.get_matrix()


def _runs(row: list[bool]):
    """Yield (start, length) of each run of dark modules in a row."""
    x = 0
    while x < len(row):
        if row[x]:
            start = x
            while x < len(row) and row[x]:
                x += 1
            yield start, x - start
        else:
            x += 1


def _require_font(path: str) -> str:
    if not os.path.isfile(path):
        raise LabelFontError(
            f"CJK label font not found at {path}; install the Debian package {FONT_PACKAGE} "
            f"(apt-get install -y --no-install-recommends {FONT_PACKAGE})"
        )
    return path


@functools.lru_cache(maxsize=64)
def _pil_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_require_font(path), size=size, index=0)


def _fit_pil_font(path: str, text: str, size: int, max_width: int) -> ImageFont.FreeTypeFont:
    """Return the font at ``size`` or smaller so ``text`` fits ``max_width`` pixels."""
    while size > 8:
        font = _pil_font(path, size)
        if font.getlength(text) <= max_width:
            return font
        size -= 2
    return _pil_font(path, 8)


def render_label_png(label: LabelInfo, *, font_path: str = FONT_PATH) -> bytes:
    """Return one label as a PNG at 300 dpi (70 x 37 mm, the sheet's label size)."""
    _require_font(font_path)
    width = round(LABEL_W_MM / 25.4 * PNG_DPI)
    height = round(LABEL_H_MM / 25.4 * PNG_DPI)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)

    matrix = qr_matrix(label.token)
    module = max(1, (height - 20) // len(matrix))
    qr_size = module * len(matrix)
    top = (height - qr_size) // 2
    for y, row in enumerate(matrix):
        for x, length in _runs(row):
            x0, y0 = 10 + x * module, top + y * module
            draw.rectangle((x0, y0, x0 + length * module - 1, y0 + module - 1), fill=0)

    text_left = 10 + qr_size + 10
    text_width = width - text_left - 20
    sizes = (40, 40, 40, 34)
    y = 40
    for line, size in zip(label.text_lines(), sizes, strict=True):
        font = _fit_pil_font(font_path, line, size, text_width)
        draw.text((text_left, y), line, font=font, fill=0)
        y += size + 36

    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(PNG_DPI, PNG_DPI))
    return out.getvalue()


def render_label_svg(label: LabelInfo) -> str:
    """Return one label as SVG (70 x 37 mm); the QR is one vector path, 1 unit per module.

    SVG text refers to the font by family name; print from the PNG or the PDF where the
    glyphs must be embedded.
    """
    matrix = qr_matrix(label.token)
    n = len(matrix)
    # Label coordinates in tenths of a millimetre; the QR fills the label's height.
    w, h = round(LABEL_W_MM * 10), round(LABEL_H_MM * 10)
    qr_mm10 = h - 20
    scale = qr_mm10 / n
    path = "".join(
        f"M{x},{y}h{length}v1h-{length}z" for y, row in enumerate(matrix) for x, length in _runs(row)
    )
    lines = label.text_lines()
    sizes = (36, 36, 36, 30)
    texts = []
    y = 70
    for line, size in zip(lines, sizes, strict=True):
        texts.append(
            f'<text x="{qr_mm10 + 30}" y="{y}" font-size="{size}" '
            f"font-family={quoteattr(FONT_FAMILY + ', sans-serif')}>{escape(line)}</text>"
        )
        y += size + 45
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W_MM}mm" height="{LABEL_H_MM}mm" '
        f'viewBox="0 0 {w} {h}">'
        f'<rect width="{w}" height="{h}" fill="#fff"/>'
        f'<g transform="translate(10 10) scale({scale:.6f})" shape-rendering="crispEdges">'
        f'<path data-role="qr" d="{path}" fill="#000"/></g>'
        + "".join(texts)
        + "</svg>\n"
    )


@functools.lru_cache(maxsize=4)
def _register_pdf_font(path: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(PDF_FONT_NAME, _require_font(path), subfontIndex=0))
    return PDF_FONT_NAME


def pdf_font(path: str = FONT_PATH) -> str:
    """Register the CJK font with reportlab (embedded in every PDF that uses it); return its name."""
    return _register_pdf_font(path)


def render_label_sheet_pdf(labels: list[LabelInfo], *, font_path: str = FONT_PATH) -> bytes:
    """Return A4 pages of 3 x 8 labels with the CJK font embedded; QR codes as vectors."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    if not labels:
        raise ValueError("a label sheet needs at least one label")
    _require_font(font_path)
    font = _register_pdf_font(font_path)
    out = io.BytesIO()
    # invariant: no creation date or random id, so the same labels give the same bytes.
    pdf = canvas.Canvas(
        out, pagesize=A4, invariant=1, pageCompression=1, initialFontName=font, initialFontSize=8
    )
    pdf.setTitle("案卷标签")
    per_page = SHEET_COLUMNS * SHEET_ROWS
    label_w, label_h = LABEL_W_MM * MM, LABEL_H_MM * MM
    _, page_h = A4
    pad = 2.5 * MM
    for index, label in enumerate(labels):
        if index and index % per_page == 0:
            pdf.showPage()
        slot = index % per_page
        col, row = slot % SHEET_COLUMNS, slot // SHEET_COLUMNS
        x0 = col * label_w
        y0 = page_h - (row + 1) * label_h

        matrix = qr_matrix(label.token)
        qr_size = label_h - 2 * pad
        module = qr_size / len(matrix)
        qr_top = y0 + pad + qr_size
        pdf.setFillGray(0)
        for y, row_modules in enumerate(matrix):
            for x, length in _runs(row_modules):
                pdf.rect(
                    x0 + pad + x * module,
                    qr_top - (y + 1) * module,
                    length * module,
                    module,
                    stroke=0,
                    fill=1,
                )

        text_left = x0 + pad + qr_size + 1.5 * MM
        text_width = x0 + label_w - pad - text_left
        line_y = y0 + label_h - pad - 3.5 * MM
        for line, size in zip(label.text_lines(), (8.5, 8.5, 8.5, 7.5), strict=True):
            while size > 4 and pdfmetrics.stringWidth(line, font, size) > text_width:
                size -= 0.5
            pdf.setFont(font, size)
            pdf.drawString(text_left, line_y, line)
            line_y -= 7.5 * MM
    pdf.showPage()
    pdf.save()
    return out.getvalue()
