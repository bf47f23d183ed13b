"""A dossier's custody timeline as a PDF, for the file: who, when, where, how, and whether the
chain verifies — with WenQuanYi Micro Hei embedded, like the proof of service."""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from flask_babel import gettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from scanners.labels import pdf_font


def render_timeline(dossier, events: list[dict], *, verified: bool, problem: str | None, settings,
                    now: datetime) -> bytes:
    """``events`` as :func:`ancillary.custody.queries.timeline` gives them."""
    font = pdf_font()
    tz = settings.timezone
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=15, leading=21, alignment=1)

    def p(text, style=base):
        return Paragraph(escape(str(text or "")), style)

    state = gettext("The chain verifies: no event was altered, removed or reordered.") if verified else \
        gettext("The chain does NOT verify: {problem}").format(problem=problem or "")
    facts = [(gettext("Dossier"), f"{dossier.code} · {gettext('volume')} {dossier.volume}"),
             (gettext("Case number"), dossier.case.number), (gettext("Verification"), state),
             (gettext("Generated at"), now.astimezone(tz).strftime("%Y-%m-%d %H:%M"))]
    story = [p(settings.court_name, title), p(gettext("Custody timeline of a case file"), title), Spacer(1, 4 * mm),
             _grid([[p(k), p(v)] for k, v in facts], [35 * mm, 139 * mm], font)]
    rows = [[p(gettext("No.")), p(gettext("When")), p(gettext("What")), p(gettext("Who")), p(gettext("Holder")),
             p(gettext("Where")), p(gettext("How"))]]
    for e in events:
        how = gettext("label scanned") if e["by_scan"] else (
            gettext("code typed by hand") if e["typed"] else gettext("recorded at the archive desk"))
        if e["offline"]:
            how += gettext(" (offline, device time)")
        rows.append([p(e["seq"]), p(e["at"].strftime("%Y-%m-%d %H:%M")), p(e["what"]), p(e["who"]),
                     p(e["holder"]), p(e["where"]), p(how)])
    story += [Spacer(1, 4 * mm), _grid(rows, [10 * mm, 27 * mm, 25 * mm, 24 * mm, 24 * mm, 34 * mm, 30 * mm], font,
                                       header=True)]
    buffer = io.BytesIO()
    title = f"{gettext('Custody timeline of a case file')} {dossier.code}"
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                 bottomMargin=16 * mm, title=title,
                                 author=settings.court_name, invariant=1, initialFontName=font, initialFontSize=8)
    document.build(story)
    return buffer.getvalue()


def _grid(rows, widths, font, header=False) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
             ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 3),
             ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    table.setStyle(TableStyle(style))
    return table
