"""The proof-of-service PDF: case, recipient, documents, every attempt with its evidence and
photos, the hashes of stored evidence, the legal service date and when the proof was made.

reportlab with WenQuanYi Micro Hei embedded (Debian's fonts-wqy-microhei), so the Chinese
text renders the same in any viewer; a CID font would leave the glyphs to the viewer, not
good enough for a legal proof.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from flask_babel import gettext
from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ancillary.errors import DomainError
from ancillary.outbox import reader_locale
from ancillary.service.attempts import attempts_in_time
from ancillary.service.evidence import read_stored
from ancillary.service.schemas import source_text
from ancillary.storage import storage_for

FONT_NAME = "WenQuanYiMicroHei"
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
)
PHOTO_WIDTH = 70 * mm


class FontMissing(DomainError):
    status = 503


def _font() -> str:
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        path = next((p for p in FONT_PATHS if p.is_file()), None)
        if path is None:
            raise FontMissing("cjk_font_missing", "the CJK font is not installed: apt-get install fonts-wqy-microhei")
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    return FONT_NAME


def channel_label(channel) -> str:
    labels = {
        "address_reuse": gettext("Address reuse"),
        "phone": gettext("Phone call"),
        "sms": gettext("SMS"),
        "email": gettext("E-mail"),
        "law_firm_email": gettext("E-mail to the law firm"),
        "personal": gettext("Direct service"),
        "mail": gettext("Postal mail"),
        "posting": gettext("Posting at the address"),
        "public_notice": gettext("Public notice"),
    }
    return labels.get(str(channel), str(channel))


def outcome_label(outcome) -> str:
    labels = {
        "sent": gettext("sent"), "delivered": gettext("delivered"), "served": gettext("served"),
        "failed": gettext("failed"), "no_answer": gettext("no answer"), "refused": gettext("refused"),
        "moved": gettext("moved away"), "wrong_address": gettext("wrong address"),
        "unclaimed": gettext("unclaimed"), "posted": gettext("posted"),
    }
    return labels.get(str(outcome), str(outcome))


def render_proof(order, *, settings, now: datetime, users: dict[int, str]) -> bytes:
    """Build the proof of ``order``; ``users`` maps actor ids to display names."""
    with reader_locale():
        return _Proof(order, settings=settings, now=now, users=users).render()


class _Proof:
    """One proof being written: its styles, its clock, and a section per method."""

    def __init__(self, order, *, settings, now: datetime, users: dict[int, str]):
        self.order, self.settings, self.now, self.users = order, settings, now, users
        self.font = _font()
        self.tz = settings.timezone
        self.base = ParagraphStyle("base", fontName=self.font, fontSize=9.5, leading=13, wordWrap="CJK")
        self.small = ParagraphStyle("small", parent=self.base, fontSize=8, leading=10.5)
        self.title = ParagraphStyle("title", parent=self.base, fontSize=16, leading=22, alignment=1)
        self.heading = ParagraphStyle("heading", parent=self.base, fontSize=11.5, leading=16, spaceBefore=8,
                                      spaceAfter=4)

    def p(self, text, style=None):
        return Paragraph(escape(str(text)) if text is not None else "", style or self.base)

    def local(self, value):
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if value else "—"

    def pairs(self, lines, widths):
        return _grid([[self.p(k, self.small), self.p(v, self.small)] for k, v in lines], widths)

    def render(self) -> bytes:
        story = [*self.summary(), *self.addresses(), self.p(gettext("Attempts"), self.heading)]
        story += [self.attempt(attempt) for attempt in attempts_in_time(self.order)]
        story += self.hashes()
        buffer = io.BytesIO()
        document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                                     topMargin=16 * mm, bottomMargin=16 * mm,
                                     title=f"{gettext('Proof of service')} {self.order.case.number}",
                                     author=self.settings.court_name, invariant=1,
                                     # every page's preamble sets this font: not the default Helvetica
                                     initialFontName=self.font, initialFontSize=7.5)
        document.build(story, onFirstPage=self.footer, onLaterPages=self.footer)
        return buffer.getvalue()

    def footer(self, canvas, doc):
        canvas.saveState()
        canvas.setFont(self.font, 7.5)
        canvas.drawString(18 * mm, 9 * mm, f"{self.order.case.number} · #{self.order.id} · {self.local(self.now)}")
        canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, str(doc.page))
        canvas.restoreState()

    def summary(self) -> list:
        order = self.order
        status = {"served": gettext("served"), "exhausted": gettext("every layer failed"),
                  "pending": gettext("pending"), "in_progress": gettext("in progress"),
                  "withdrawn": gettext("withdrawn: the case was closed")}[order.status.value]
        served = (f"{self.local(order.served_at)} ({channel_label(order.served_channel.value)})"
                  if order.served_at else "—")
        facts = [
            (gettext("Case number"), order.case.number),
            (gettext("Recipient"), order.recipient.name),
            (gettext("Documents served"), order.documents),
            (gettext("Status"), status),
            (gettext("Legal service date"), served),
            (gettext("Service order"), f"#{order.id}"),
            (gettext("Generated at"), self.local(self.now)),
        ]
        if order.withdrawn_at:
            facts.append((gettext("Withdrawn at"), self.local(order.withdrawn_at)))
        if order.notice_published_at:
            facts.append((gettext("Public notice published"), self.local(order.notice_published_at)))
        return [self.p(self.settings.court_name, self.title), self.p(gettext("Proof of service"), self.title),
                Spacer(1, 4 * mm), _grid([[self.p(k), self.p(v)] for k, v in facts], [40 * mm, 130 * mm])]

    def addresses(self) -> list:
        rows = [[self.p(gettext("Address")), self.p(gettext("Source")), self.p(gettext("State"))]]
        for address in self.order.addresses:
            state = (gettext("failed: %(reason)s", reason=outcome_label(address.failed_reason))
                     if address.failed_at else gettext("usable"))
            rows.append([self.p(address.text, self.small), self.p(source_text(address, self.tz), self.small),
                         self.p(state, self.small)])
        return [self.p(gettext("Addresses"), self.heading), _grid(rows, [80 * mm, 60 * mm, 30 * mm], header=True)]

    def attempt(self, attempt):
        flowables = [self.pairs(self.attempt_lines(attempt), [35 * mm, 135 * mm])]
        if attempt.photo_sha256:
            flowables.append(self.photo(attempt))
        return KeepTogether([self.p(gettext("Attempt %(n)s", n=attempt.seq), self.heading), *flowables])

    def attempt_lines(self, attempt) -> list[tuple[str, str]]:
        local = self.local
        lines = [
            (gettext("Time"), local(attempt.attempted_at)),
            (gettext("Channel"), channel_label(attempt.channel.value)),
            (gettext("Outcome"), outcome_label(attempt.outcome.value)),
            (gettext("Recorded by"), self.users.get(attempt.actor_id, gettext("the system"))),
        ]
        optional = [
            (gettext("Place or contact"), attempt.address or attempt.contact),
            (gettext("Received by"), attempt.received_by),
            (gettext("Witness"), attempt.witness),
            (gettext("Call duration"), gettext("%(n)s seconds", n=attempt.duration_seconds)
             if attempt.duration_seconds is not None else None),
            (gettext("Delivered at"), local(attempt.delivered_at) if attempt.delivered_at else None),
        ]
        lines += [(k, v) for k, v in optional if v]
        if attempt.tracking_number:
            lines.append((gettext("Tracking number"), f"{attempt.tracking_number} ({attempt.carrier})"))
            for event in attempt.carrier_events:
                extra = " ".join(x for x in (event.location, event.description, event.signed_by) if x)
                lines.append(("", f"{local(event.event_at)} {event.code} {extra}".strip()))
        tail = [(gettext("Reason for moving on early"), attempt.skip_reason), (gettext("Notes"), attempt.notes)]
        return lines + [(k, v) for k, v in tail if v]

    def photo(self, attempt) -> Table:
        position = (f"{attempt.latitude:.6f}, {attempt.longitude:.6f}" if attempt.latitude is not None
                    else gettext("no GPS position"))
        meta = [
            (gettext("Photo SHA-256"), attempt.photo_sha256),
            (gettext("Photo position"), position),
            (gettext("Photo taken at"), self.local(attempt.photo_taken_at)),
        ]
        if attempt.distance_m is not None:
            meta.append((gettext("Distance from address"), gettext("%(m)s m", m=round(attempt.distance_m))))
        if attempt.flags:
            meta.append((gettext("Flags"), ", ".join(attempt.flags)))
        image = _photo(storage_for(self.settings), attempt.photo_path)
        cells = [[image or self.p(gettext("photo file missing"), self.small),
                  self.pairs(meta, [30 * mm, 70 * mm])]]
        table = Table(cells, colWidths=[PHOTO_WIDTH + 2 * mm, 100 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), self.font)]))
        return table

    def hashes(self) -> list:
        hashes = [(a.seq, a.photo_sha256) for a in attempts_in_time(self.order) if a.photo_sha256]
        if not hashes:
            return [self.p(gettext("Hashes of stored evidence"), self.heading),
                    self.p(gettext("No stored evidence files."), self.small)]
        return [self.p(gettext("Hashes of stored evidence"), self.heading),
                self.pairs([(gettext("Attempt %(n)s", n=seq), digest) for seq, digest in hashes],
                           [30 * mm, 140 * mm])]


def _grid(rows, widths, header=False) -> Table:
    table = Table(rows, colWidths=widths)
    style = [
        # a table sets its cell font on the canvas even for Paragraph cells: never Helvetica
        ("FONTNAME", (0, 0), (-1, -1), _font()),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    table.setStyle(TableStyle(style))
    return table


def _photo(storage, key: str | None):
    """The stored photo, downscaled to print size (the original stays in storage)."""
    content = read_stored(storage, key) if key else None
    if content is None:
        return None
    with PILImage.open(io.BytesIO(content)) as image:
        image = image.convert("RGB")
        image.thumbnail((900, 900))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        width, height = image.size
    out.seek(0)
    return Image(out, width=PHOTO_WIDTH, height=PHOTO_WIDTH * height / width)
