"""The SMS and e-mail that serve documents, written into the outbox in the court's language."""

from __future__ import annotations

from flask_babel import gettext

from ancillary.errors import Invalid
from ancillary.outbox import court_locale, enqueue
from ancillary.service.models import AttemptChannel, ServiceOrder


def send_message(session, order: ServiceOrder, channel: AttemptChannel, contact: str | None, *, actor, now, settings):
    """Write the SMS or e-mail into the outbox (quiet hours apply); return it and its address."""
    party = order.recipient
    case = order.case
    if channel == AttemptChannel.law_firm_email:
        firm = party.law_firm
        if firm is None or not firm.e_service_agreement:
            raise Invalid("no_agreed_law_firm", "the recipient's law firm has not signed the e-service agreement",
                          field="channel")
        to_address, kind = firm.email, "email"
    elif channel == AttemptChannel.sms:
        phones = party.values("phone")
        to_address, kind = (contact or (phones[0] if phones else "")).strip(), "sms"
        if not to_address:
            raise Invalid("no_phone", "the recipient has no phone number: give one", field="contact")
    else:
        emails = party.values("email")
        to_address, kind = (contact or (emails[0] if emails else "")).strip().lower(), "email"
        if not to_address or "@" not in to_address:
            raise Invalid("no_email", "the recipient has no e-mail address: give one", field="contact")
    params = {"court": settings.court_name, "number": case.number, "name": party.name,
              "documents": order.documents}
    with court_locale():
        if kind == "sms":
            body = gettext("%(court)s: %(name)s, you are a party to case %(number)s. Documents to serve: "
                           "%(documents)s. Please contact the court's service centre.", **params)
            subject = None
        else:
            subject = gettext("Service of court documents, case %(number)s", **params)
            body = gettext("%(court)s serves on %(name)s, in case %(number)s, the following documents: "
                           "%(documents)s. Service takes effect when this message reaches you.", **params)
    notification = enqueue(
        session, key=f"service.{channel.value}:{order.id}:{len(order.attempts) + 1}", channel=kind,
        to_address=to_address, body=body, subject=subject, kind=f"service.{channel.value}", now=now,
        case_id=case.id, obj=order, settings=settings,
        is_new=True,  # the key names the attempt this transaction adds: no committed message can hold it
    )
    return notification, to_address
