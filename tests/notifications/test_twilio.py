"""The real twilio SDK over real HTTP, against the local stand-in."""

import re
import time

import pytest

from notifications.channels import ChannelError
from notifications.twilio import BaseUrlHttpClient, TwilioSms, build_client

JUDGE = "+8613800138000"


def test_send_sms_reaches_the_standin(standin, sms):
    body = "（2026）鲁1002民初123号：明日9:00第三法庭开庭。"
    result = sms.send_sms(JUDGE, body, status_callback="https://court.example.cn/hooks/twilio/status")

    assert re.fullmatch(r"SM[0-9a-f]{32}", result.provider_id)
    assert result.status == "queued"
    assert result.raw["body"] == body
    [received] = standin.messages
    assert received["sid"] == result.provider_id
    assert received["to"] == JUDGE and received["from"] == "+8653100000001"
    assert received["body"] == body
    assert received["status_callback"] == "https://court.example.cn/hooks/twilio/status"


def test_place_a_call_with_mandarin_twiml(standin, voice):
    result = voice.call(JUDGE, "您有三件案件待结，请登录系统确认。 <重要> & 紧急")

    assert re.fullmatch(r"CA[0-9a-f]{32}", result.provider_id)
    assert result.status == "queued"
    [call] = standin.calls
    assert call["to"] == JUDGE
    assert call["twiml"] == (
        '<Response><Say language="cmn-CN">您有三件案件待结，请登录系统确认。'
        " &lt;重要&gt; &amp; 紧急</Say></Response>"
    )


def test_invalid_number_is_not_retryable(standin, sms):
    standin.invalid_numbers.add("+8610000000000")
    with pytest.raises(ChannelError) as exc:
        sms.send_sms("+8610000000000", "x")
    assert exc.value.code == 21211
    assert exc.value.retryable is False
    assert exc.value.retry_after is None
    assert standin.messages == []


def test_malformed_number_is_refused_before_sending(standin, sms):
    with pytest.raises(ValueError, match="E.164"):
        sms.send_sms("13800138000", "x")
    assert standin.request_count == 0


def test_rate_limit_is_retryable_with_retry_after(standin, sms):
    standin.fail_next(1, status=429, retry_after=7)
    with pytest.raises(ChannelError) as exc:
        sms.send_sms(JUDGE, "x")
    assert exc.value.retryable is True
    assert exc.value.retry_after == 7
    assert exc.value.code == 20429
    # the fault was for one request only
    assert sms.send_sms(JUDGE, "x").status == "queued"


def test_server_error_is_retryable(standin, voice):
    standin.fail_next(1, status=500)
    with pytest.raises(ChannelError) as exc:
        voice.call(JUDGE, "测试")
    assert exc.value.retryable is True
    assert exc.value.retry_after is None
    assert standin.calls == []


def test_wrong_credentials_are_not_retryable(standin):
    wrong = TwilioSms(standin.account_sid, "not-the-token", "+8653100000001", api_base=standin.base_url)
    with pytest.raises(ChannelError) as exc:
        wrong.send_sms(JUDGE, "x")
    assert exc.value.code == 20003
    assert exc.value.retryable is False


def test_slow_provider_times_out_as_retryable(standin):
    slow = TwilioSms(
        standin.account_sid, standin.auth_token, "+8653100000001",
        api_base=standin.base_url, timeout=0.2,
    )
    standin.delay_next(1, seconds=5)
    started = time.monotonic()
    with pytest.raises(ChannelError) as exc:
        slow.send_sms(JUDGE, "x")
    assert time.monotonic() - started < 2
    assert exc.value.retryable is True


def test_unreachable_provider_is_retryable(standin):
    base = standin.base_url
    standin.stop()
    sms = TwilioSms(standin.account_sid, standin.auth_token, "+8653100000001", api_base=base, timeout=1)
    with pytest.raises(ChannelError) as exc:
        sms.send_sms(JUDGE, "x")
    assert exc.value.retryable is True


def test_base_url_rewrite_covers_every_twilio_host():
    http = BaseUrlHttpClient("https://gw.court.example.cn/twilio/")
    assert (
        http.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json")
        == "https://gw.court.example.cn/twilio/2010-04-01/Accounts/AC1/Messages.json"
    )
    assert http.rewrite("https://messaging.twilio.com/v1/Services?x=1") == (
        "https://gw.court.example.cn/twilio/v1/Services?x=1"
    )
    assert http.rewrite("https://voice.sydney.au1.twilio.com/v1/x") == (
        "https://gw.court.example.cn/twilio/v1/x"
    )
    assert http.rewrite("https://example.org/elsewhere") == "https://example.org/elsewhere"
    assert BaseUrlHttpClient(None).rewrite("https://api.twilio.com/a") == "https://api.twilio.com/a"


def test_api_base_must_be_http():
    with pytest.raises(ValueError):
        build_client("AC" + "0" * 32, "token", api_base="ftp://nowhere")


def test_from_number_is_validated():
    with pytest.raises(ValueError, match="from_number"):
        TwilioSms("AC" + "0" * 32, "token", "95566")
