import io

import pytest

from notifications.channels import (
    Attachment,
    ChannelError,
    ConsoleEmail,
    ConsoleSms,
    EmailChannel,
    FakeEmail,
    FakeSms,
    FakeVoice,
    SmsChannel,
    VoiceChannel,
    validate_e164,
)


@pytest.mark.parametrize("number", ["+8613800138000", "+14155550100", "+4930123"])
def test_e164_accepts(number):
    assert validate_e164(number) == number


@pytest.mark.parametrize("number", ["13800138000", "+0123456789", "+86 138 0013 8000", "+123", ""])
def test_e164_rejects_with_clear_message(number):
    with pytest.raises(ValueError, match="E.164"):
        validate_e164(number)


def test_fakes_satisfy_the_ports():
    assert isinstance(FakeSms(), SmsChannel)
    assert isinstance(FakeVoice(), VoiceChannel)
    assert isinstance(FakeEmail(), EmailChannel)
    assert isinstance(ConsoleSms(), SmsChannel)
    assert isinstance(ConsoleEmail(), EmailChannel)


def test_fake_sms_records_and_fails_on_demand():
    sms = FakeSms()
    result = sms.send_sms("+8613800138000", "（2026）鲁1002民初123号 明日开庭", "https://x/cb")
    assert result.status == "queued"
    assert result.provider_id.startswith("SM")
    assert sms.sent[0].body.endswith("明日开庭")
    assert sms.sent[0].provider_id == result.provider_id

    sms.fail_next(ChannelError("busy", retryable=True, retry_after=2, code=20429))
    with pytest.raises(ChannelError) as exc:
        sms.send_sms("+8613800138000", "again")
    assert exc.value.retryable and exc.value.retry_after == 2
    assert len(sms.sent) == 1
    sms.send_sms("+8613800138000", "third")
    assert len(sms.sent) == 2


def test_fake_sms_rejects_bad_number_like_the_real_adapter():
    with pytest.raises(ValueError):
        FakeSms().send_sms("13800138000", "x")


def test_fake_voice_and_email_record():
    voice = FakeVoice()
    voice.call("+8613800138000", "请确认开庭时间")
    assert voice.calls[0].say_text == "请确认开庭时间"
    email = FakeEmail()
    att = Attachment("传票.pdf", b"%PDF-1.4", "application/pdf")
    assert email.send_email("lawyer@firm.example.cn", "送达通知", "正文", [att]).status == "sent"
    assert email.sent[0].attachments == (att,)


def test_console_adapters_print():
    out = io.StringIO()
    ConsoleSms(out).send_sms("+8613800138000", "提醒：案件待结")
    ConsoleEmail(out).send_email(
        "a@example.cn", "主题", "正文", [Attachment("a.txt", b"abc", "text/plain")]
    )
    text = out.getvalue()
    assert "+8613800138000" in text and "提醒：案件待结" in text
    assert "主题" in text and "a.txt (text/plain, 3 bytes)" in text
