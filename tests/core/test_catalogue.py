"""Everything a person reads has a Simplified Chinese translation in the catalogue."""

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = dict(DEFAULT_KEYWORDS, N_=None, **{name: (2,) for name in
                                               ("DomainError", "Invalid", "NotFound", "Conflict", "Forbidden",
                                                "Unauthorized", "Refusal")})


def test_every_message_in_the_code_has_a_chinese_translation():
    with open(ROOT / "ancillary/translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="zh")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    extracted = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            ROOT / "ancillary",
            method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
            keywords=KEYWORDS,
        )
    }
    missing = sorted(extracted - translated)
    assert missing == [], "run `make messages` and translate: " + "; ".join(missing[:20])
