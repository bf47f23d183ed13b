"""Outgoing channels (SMS, voice, e-mail) behind small ports, and webhook signature checks.

No Flask here: the web app, the CLI and background jobs all use the same adapters.
"""

from notifications.channels import (
    Attachment,
    ChannelError,
    ConsoleEmail,
    ConsoleSms,
    EmailChannel,
    FakeEmail,
    FakeSms,
    FakeVoice,
    SendResult,
    SmsChannel,
    VoiceChannel,
    validate_e164,
)

__all__ = [
    "Attachment",
    "ChannelError",
    "ConsoleEmail",
    "ConsoleSms",
    "EmailChannel",
    "FakeEmail",
    "FakeSms",
    "FakeVoice",
    "SendResult",
    "SmsChannel",
    "VoiceChannel",
    "validate_e164",
]
