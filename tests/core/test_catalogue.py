"""Everything a person reads has a Simplified Chinese translation in the catalogue."""

import ast
from pathlib import Path
from string import Formatter

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


ERRORS = {"DomainError", "Invalid", "NotFound", "Conflict", "Forbidden", "Unauthorized", "RateLimited",
          "TooManyAttempts", "UnsupportedBody", "FontMissing", "TooLarge", "BadBody"}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def test_every_error_sentence_has_its_blanks_filled():
    """A refusal's sentence names only what the refusal passes: a reader never sees '{field}'."""
    unfilled = []
    for path in sorted((ROOT / "ancillary").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERRORS and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
                continue
            if any(keyword.arg is None for keyword in node.keywords):
                continue  # **params: cannot be read here
            given = {keyword.arg for keyword in node.keywords} - {"field"}
            missing = _placeholders(node.args[1].value) - given
            if missing:
                unfilled.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(missing)}")
    assert unfilled == []


def test_every_translation_keeps_the_blanks_of_its_message():
    with open(ROOT / "ancillary/translations/zh/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="zh")
    different = [m.id for m in catalog if isinstance(m.id, str) and m.id and m.string and not m.fuzzy
                 and _placeholders(m.id) != _placeholders(m.string)]
    assert different == []
