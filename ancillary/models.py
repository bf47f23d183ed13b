"""Import every context's models so the metadata (and Alembic) sees all tables."""

from ancillary.archive.models import ArchiveRecord, BacklogFile  # noqa: F401
from ancillary.audit.models import AccessLogEntry, AuditEntry  # noqa: F401
from ancillary.auth.models import ApiToken, User  # noqa: F401
from ancillary.cases.models import Case, Dossier, LawFirm, Party, PartyContact, Person  # noqa: F401
from ancillary.custody.models import CustodyEvent, CustodyHead  # noqa: F401
from ancillary.ops.models import SchedulerBeat, SweepRun  # noqa: F401
from ancillary.outbox import Notification, NotificationItem, SmsOptOut  # noqa: F401
from ancillary.queues.models import FollowUpPairing, Group, Post, Task  # noqa: F401
from ancillary.reminders.models import EnforcementRecord  # noqa: F401
from ancillary.scheduling.models import (  # noqa: F401
    Blocking,
    CalendarFeed,
    CourtDay,
    Courtroom,
    Hearing,
    HearingProposal,
)
from ancillary.service.models import CarrierEvent, ServiceAddress, ServiceAttempt, ServiceOrder  # noqa: F401
