"""The outbox: every message to a person, written with the change that caused it and
delivered after commit; quiet hours, acknowledgement codes, delivery status, the sender.

Reminders, service of process, scheduling and archiving write through this package's
public names below; none of them reaches into its modules, and it depends on none of them.
"""

from ancillary.outbox.models import Channel, Notification, NotificationItem, NotificationStatus, SmsOptOut
from ancillary.outbox.quiet import QUIET_CHANNELS, in_quiet_hours, release_time
from ancillary.outbox.sender import (
    Channels,
    build_channels,
    channels_for,
    claim_one,
    deliver_due,
    run_sender,
    send_one,
)
from ancillary.outbox.services import (
    RANK,
    apply_provider_status,
    audit_step,
    audit_steps,
    case_ids_of,
    due_time,
    enqueue,
    enqueue_many,
    get_notification,
    is_opted_out,
    link_items,
    map_provider_status,
    new_ack_code,
    notify_status_change,
    status_changed,
)
from ancillary.outbox.text import court_language, court_locale, reader_locale

__all__ = [
    "QUIET_CHANNELS", "RANK", "Channel", "Channels", "Notification", "NotificationItem", "NotificationStatus",
    "SmsOptOut", "apply_provider_status", "audit_step", "audit_steps", "build_channels", "case_ids_of",
    "channels_for", "claim_one", "court_language", "due_time", "court_locale", "deliver_due", "enqueue", "enqueue_many",
    "get_notification", "in_quiet_hours", "is_opted_out", "link_items", "map_provider_status", "new_ack_code",
    "notify_status_change",
    "reader_locale", "release_time", "run_sender", "send_one", "status_changed",
]
