#!/usr/bin/env python3
"""Fill empty msgstr entries of a catalogue from a Python dict file: msgid -> translation.

Usage: scripts/fill-translations.py LOCALE DICT.py   (DICT.py defines a dict named ZH)
Prints the messages still untranslated.
"""

import runpy
import sys

from babel.messages.pofile import read_po, write_po

locale, source = sys.argv[1], sys.argv[2]
path = f"ancillary/translations/{locale}/LC_MESSAGES/messages.po"
table = runpy.run_path(source)["ZH"]
with open(path, "rb") as f:
    catalog = read_po(f, locale=locale)
missing = []
for message in catalog:
    if not message.id:
        continue
    if message.id in table:
        message.string = table[message.id]
    elif not message.string:
        missing.append(message.id)
with open(path, "wb") as f:
    write_po(f, catalog, width=100, omit_header=False)
for m in missing:
    print("untranslated:", m)
