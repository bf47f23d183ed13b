"""How enum values read to people: roles, statuses, channels, queues, kinds.

API payloads keep the English values; a message shown to a person names them in the
reader's language (``label("judge")`` is 法官 in Chinese).
"""

from __future__ import annotations

from flask_babel import gettext


def N_(message: str) -> str:
    """Mark a message for the catalogue (pybabel extracts N_); it is translated where it is shown."""
    return message


LABELS = {
    # roles
    "intake_clerk": N_("intake clerk"),
    "scheduler": N_("scheduler"),
    "service_clerk": N_("service clerk"),
    "file_clerk": N_("file clerk"),
    "archivist": N_("archivist"),
    "follow_up": N_("follow-up post"),
    "judge": N_("judge"),
    "enforcement_officer": N_("enforcement officer"),
    "court_admin": N_("management office"),
    "contractor_manager": N_("contractor manager"),
    "sysadmin": N_("system administrator"),
    # queues and task states
    "pre_trial": N_("pre-trial"),
    "trial": N_("trial"),
    "service": N_("service"),
    "archive": N_("archive"),
    "open": N_("open"),
    "claimed": N_("claimed"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
    "closed": N_("closed"),
    "archived": N_("archived"),
    "exhausted": N_("exhausted"),
    # service channels and outcomes
    "address_reuse": N_("address reuse"),
    "phone": N_("phone call"),
    "sms": N_("SMS"),
    "email": N_("e-mail"),
    "law_firm_email": N_("e-mail to the law firm"),
    "personal": N_("direct service"),
    "mail": N_("postal mail"),
    "posting": N_("posting at the address"),
    "public_notice": N_("public notice"),
    "main": N_("main court"),
}


def label(value):
    """The reader's word for an enum value; anything else unchanged."""
    key = getattr(value, "value", value)
    if isinstance(key, str) and key in LABELS:
        return gettext(LABELS[key])
    return value
