import pytest

from notifications.testing.twilio_standin import TwilioStandin
from notifications.twilio import TwilioSms, TwilioVoice

FROM = "+8653100000001"


@pytest.fixture
def standin():
    with TwilioStandin() as server:
        yield server


@pytest.fixture
def sms(standin):
    return TwilioSms(
        standin.account_sid, standin.auth_token, FROM, api_base=standin.base_url, timeout=2.0
    )


@pytest.fixture
def voice(standin):
    return TwilioVoice(
        standin.account_sid, standin.auth_token, FROM, api_base=standin.base_url, timeout=2.0
    )
