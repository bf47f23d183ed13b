#!/usr/bin/env bash
# Extract the translatable messages and update the catalogues (zh is the default locale).
# Domain errors are messages too: the second argument of Invalid(...), Conflict(...), etc.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
KEYWORDS="-k _ -k gettext -k ngettext:1,2 -k lazy_gettext -k N_ -k DomainError:2 -k Invalid:2 -k NotFound:2 -k Conflict:2 -k Forbidden:2 -k Unauthorized:2 -k Refusal:2 -k BadBody:2 -k TooManyAttempts:2"
$BIN/pybabel extract -F babel.cfg $KEYWORDS --no-location --sort-output -o ancillary/translations/messages.pot . >/dev/null
for locale in zh en; do
    if [ -f ancillary/translations/$locale/LC_MESSAGES/messages.po ]; then
        $BIN/pybabel update -i ancillary/translations/messages.pot -d ancillary/translations -l $locale --no-fuzzy-matching >/dev/null
    else
        $BIN/pybabel init -i ancillary/translations/messages.pot -d ancillary/translations -l $locale >/dev/null
    fi
done
echo "catalogues updated: translate the empty msgstr entries in ancillary/translations/zh/LC_MESSAGES/messages.po"
