"""What the replay's report says, through the message catalogues: Chinese first, English second.

Every sentence is an English message (extracted by ``scripts/messages.sh``) translated in
the court's language; the report prints both, the court's first. Rendering needs the app
context (Flask-Babel reads the catalogues through it).
"""

from __future__ import annotations

from flask_babel import force_locale, gettext
from markupsafe import Markup, escape

from ancillary.display_names import LABELS as ENUM_LABELS
from ancillary.display_names import N_
from ancillary.outbox import court_language
from ancillary.replay.court import ReplaySettings

# The seed's figures, named as the dashboard names them (the same messages, one translation).
FIGURE_LABELS = {
    "cases": N_("Cases filed"),
    "scheduled_within_3h_rate": N_("Hearings scheduled within 3 hours of filing"),
    "courtroom_utilization": N_("Courtroom use on working days"),
    "courtroom_utilization_of_bound": N_("Courtroom use, of what the demand allows"),
    "speedy_heard_within_7_days_rate": N_("Speedy cases heard within 7 days of filing"),
    "speedy_placeable_heard_within_7_days_rate": N_(
        "Speedy cases heard within 7 days, of those the court calendar allowed"),
    "service_success_rate": N_("Service of process succeeded"),
    "archived_within_30_days_rate": N_("Closed cases archived within 30 days"),
    "closed_within_limit_rate": N_("Cases closed within the statutory limit"),
}
LAYER_LABELS = {"electronic": N_("Service: phone, SMS, e-mail"), "direct": N_("Service: in person"),
                "mail_and_posting": N_("Service: by post, or posting at the address"),
                "public_notice": N_("Service: by public notice")}
TITLE = N_("A year at the court, replayed through the product")


def pair(message: str, **params) -> tuple[str, str]:
    """The message in the court's language and in English; a callable parameter is worded in each."""
    said = []
    for language in (court_language(), "en"):
        with force_locale(language):
            values = {k: v() if callable(v) else v for k, v in params.items()}
            said.append((gettext(message) if language != "en" else message).format(**values))
    return said[0], said[1]


def text(message: str, **params) -> str:
    """One line: the court's language, then English."""
    local, english = pair(message, **params)
    return local if local == english else f"{local} — {english}"


def html(message: str, **params) -> Markup:
    """For the page: the court's language, the English beneath it in small type."""
    local, english = pair(message, **params)
    if local == english:
        return escape(local)
    return Markup("{}<br><small>{}</small>").format(local, english)


def post(role: str) -> str:
    """A post's or a queue's name, as the pages name it."""
    return text(ENUM_LABELS.get(role, role))


def assumptions(rs: ReplaySettings, rooms: dict[str, int]) -> list[str]:
    """Every assumption of the simulated court, as a sentence with its numbers."""
    m, r = rs.minutes, rs.rates
    def staff():
        return ", ".join(f"{gettext(ENUM_LABELS.get(k, k))} {v}" for k, v in sorted(rs.staff.items()))

    return [
        text(N_("Cases arrive on working days between 08:30 and 17:00 (a Poisson count a day, uniform times), "
                "{cases} a year times {volume}; speedy 30%, summary 35%, ordinary 15%, enforcement 20%."),
             cases=rs.cases_per_year, volume=rs.volume),
        text(N_("Contractor staff per post: {staff}; they work on the court's working days, 08:30-12:00 and "
                "13:30-17:30."), staff=staff),
        text(N_("Courtrooms: {rooms}."), rooms=lambda: ", ".join(
            f"{gettext('main court') if venue == 'main' else venue} {n}" for venue, n in rs.venue_rooms.items()))
        if rs.venue_rooms else
        text(N_("Courtrooms: {main} at the main court and {tribunal} at each of the three tribunals, the fewest "
                "whose open hours the hearings of {cases} cases a year fill to at most {fill}."),
             main=rooms["main"], tribunal=rooms["tribunal"], cases=rs.cases_per_year, fill=rs.room_fill),
        text(N_("Minutes per action: filing {file}, booking by hand {by_hand}, an auto-scheduling run {auto} plus "
                "{per_case} per case (none when nothing waits), electronic service {electronic}, a visit {visit}, "
                "a letter {mail}, a posting {posting}, archiving {volume} per volume."),
             file=m.file_case, by_hand=m.schedule_by_hand, auto=m.schedule_auto_run, per_case=m.schedule_auto_case,
             electronic=m.electronic, visit=m.visit, mail=m.mail, posting=m.posting, volume=m.archive_volume),
        text(N_("Parties answer at the service-year benchmark's rates: law-firm e-mail delivered {firm}, phone "
                "reached {phone}, consent when reached {consent}, SMS delivered {sms}, a visit serves {visit}, "
                "mail signed {signed}, unclaimed {unclaimed}."),
             firm=r.law_firm_delivered, phone=r.phone_reached, consent=r.consent_when_reached,
             sms=r.sms_delivered, visit=r.personal_served, signed=r.mail_signed, unclaimed=r.mail_unclaimed),
        text(N_("{repeat} of defendants are sued again; {stale} of those are filed at an address they have left, "
                "where only an address confirmed in their earlier case finds them."),
             repeat=r.repeat_defendant, stale=r.stale_address),
        text(N_("Judges report a case closed within its kind's usual days after the hearing ({days}); {late} "
                "after the statutory limit."), days=lambda: _days(rs.close_days), late=r.late_close),
        text(N_("Files reach the archive post {low}-{high} days after closing; reminders are acknowledged "
                "{first}-{last} hours after they are sent, {late} only after 24 hours."),
             low=rs.take_back_days[0], high=rs.take_back_days[1], first=rs.ack_hours[0], last=rs.ack_hours[1],
             late=r.late_ack),
        text(N_("The sweeps run through the same function as the tick command, each day at {times}."),
             times=", ".join(t.strftime("%H:%M") for t in rs.ticks)),
        text(N_("A case is heard again after its first hearing at these shares: speedy {speedy}, summary "
                "{summary}, ordinary {ordinary}, enforcement {enforcement}; {third} of those heard twice are heard a "
                "third time. The judge asks for the further hearing ({asks} of the time), else the paired follow-up "
                "post does on the heard-not-closed reminder."),
             speedy=r.further_speedy, summary=r.further_summary, ordinary=r.further_ordinary,
             enforcement=r.further_enforcement, third=r.third_hearing, asks=r.judge_asks),
        text(N_("Hearings adjourned (moved later before they happen): speedy {speedy}, summary {summary}, ordinary "
                "{ordinary}, enforcement {enforcement}."),
             speedy=r.adjourned_speedy, summary=r.adjourned_summary, ordinary=r.adjourned_ordinary,
             enforcement=r.adjourned_enforcement),
        text(N_("Not modelled: mediation sessions outside hearings, hand-over scans between posts, follow-up posts' "
                "reminders by hand.")),
    ]


KINDS = {"speedy": N_("speedy cases"), "summary": N_("summary cases"), "ordinary": N_("ordinary cases"),
         "enforcement": N_("enforcement cases")}


def _days(close_days: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{gettext(KINDS.get(kind, kind))} {low}-{high}" for kind, (low, high) in close_days.items())
