"""Webhook signatures: genuine Twilio callbacks from the stand-in, and carrier HMACs."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from notifications.webhooks import (
    check_body_signature,
    check_twilio_signature,
    public_url,
    sign_body,
)

JUDGE = "+8613800138000"


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.received = []


class _ReceiverHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, dict(self.headers), body))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver():
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_genuine_callback_from_the_standin_validates(standin, sms, receiver):
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    sent = sms.send_sms(JUDGE, "提醒", status_callback=f"{base}/hooks/twilio/status?n=42")

    delivered = standin.send_status_callback(sent.provider_id, "delivered")

    assert delivered.response_status == 204
    [(path, headers, body)] = receiver.received
    form = dict(parse_qsl(body.decode()))
    assert form["MessageSid"] == sent.provider_id
    assert form["MessageStatus"] == "delivered"
    assert form["AccountSid"] == standin.account_sid
    signature = headers["X-Twilio-Signature"]
    assert check_twilio_signature(standin.auth_token, base, path, form, signature)

    # a tampered parameter, a wrong token, a wrong URL and a missing header all fail
    assert not check_twilio_signature(
        standin.auth_token, base, path, {**form, "MessageStatus": "failed"}, signature
    )
    assert not check_twilio_signature("another-token", base, path, form, signature)
    assert not check_twilio_signature(standin.auth_token, base, "/hooks/twilio/status", form, signature)
    assert not check_twilio_signature(standin.auth_token, base, path, form, None)
    assert not check_twilio_signature(standin.auth_token, base, path, form, "")


def test_auto_callbacks_follow_creation(receiver):
    from notifications.testing.twilio_standin import TwilioStandin
    from notifications.twilio import TwilioSms

    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    with TwilioStandin(auto_callbacks=("sent", "delivered")) as standin:
        sms = TwilioSms(standin.account_sid, standin.auth_token, "+8653100000001", api_base=standin.base_url)
        sent = sms.send_sms(JUDGE, "x", status_callback=f"{base}/cb")
        for _ in range(200):
            if len(standin.callbacks) == 2:
                break
            threading.Event().wait(0.01)
    statuses = [dict(parse_qsl(body.decode()))["MessageStatus"] for _, _, body in receiver.received]
    assert statuses == ["sent", "delivered"]
    assert standin.messages[0]["sid"] == sent.provider_id
    assert standin.messages[0]["status"] == "delivered"


def test_call_callback_is_signed_too(standin, voice):
    placed = voice.call(JUDGE, "测试", status_callback="https://court.example.cn/hooks/twilio/call")
    url, params, signature = standin.signed_status_callback(placed.provider_id, "completed")
    assert params["CallSid"] == placed.provider_id and params["CallStatus"] == "completed"
    assert check_twilio_signature(
        standin.auth_token, "https://court.example.cn", "/hooks/twilio/call", params, signature
    )


def test_behind_a_proxy_only_the_public_url_validates(standin, sms):
    """Twilio signs the public URL; the app behind the proxy sees an internal one."""
    sent = sms.send_sms(
        JUDGE, "x", status_callback="https://court.example.cn/hooks/twilio/status?notification_id=7"
    )
    url, params, signature = standin.signed_status_callback(sent.provider_id, "delivered")
    seen_path = "/hooks/twilio/status?notification_id=7"

    # what a naive check does: rebuild the URL the app saw
    assert not check_twilio_signature(
        standin.auth_token, "http://internal:8000", seen_path, params, signature
    )
    # what the app does: the configured public base URL + the path it received
    assert check_twilio_signature(
        standin.auth_token, "https://court.example.cn", seen_path, params, signature
    )
    assert check_twilio_signature(
        standin.auth_token, "https://court.example.cn/", seen_path, params, signature
    )


def test_multidict_form_is_accepted(standin, sms):
    from werkzeug.datastructures import MultiDict

    sent = sms.send_sms(JUDGE, "x", status_callback="https://court.example.cn/cb")
    _, params, signature = standin.signed_status_callback(sent.provider_id, "sent")
    assert check_twilio_signature(
        standin.auth_token, "https://court.example.cn", "/cb", MultiDict(params), signature
    )


def test_public_url_joins_cleanly():
    assert public_url("https://court.example.cn/", "/a?b=1") == "https://court.example.cn/a?b=1"
    assert public_url("https://court.example.cn/anc", "a") == "https://court.example.cn/anc/a"
    assert public_url("https://court.example.cn", "/a?") == "https://court.example.cn/a"


BODY = '{"tracking_number":"EMS1234567890CN","event":"delivered","地址":"威海"}'.encode()


def test_carrier_signature_good():
    header = sign_body("s3cret", BODY)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert check_body_signature("s3cret", BODY, header)
    assert check_body_signature(b"s3cret", BODY, header.upper().replace("SHA256=", "sha256="))
    assert check_body_signature("s3cret", BODY, "SHA256=" + header[7:])


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=" + "0" * 40, "sha256=zz", "sha256=" + "0" * 64, "sha256=é"],
)
def test_carrier_signature_bad_or_missing(header):
    assert not check_body_signature("s3cret", BODY, header)


def test_carrier_signature_tampered_body_or_wrong_secret():
    header = sign_body("s3cret", BODY)
    assert not check_body_signature("s3cret", BODY + b" ", header)
    assert not check_body_signature("other", BODY, header)
    assert not check_body_signature("", BODY, header)
