"""The SMTP adapter against a local aiosmtpd server."""

import socket

import pytest

from notifications.channels import Attachment, ChannelError
from notifications.smtp import SmtpEmail
from notifications.testing.smtp_standin import SmtpStandin

SENDER = "环翠区人民法院送达中心 <service@court.example.cn>"
LAWYER = "zhang.wei@lawfirm.example.cn"
SUBJECT = "（2026）鲁1002民初123号 应诉通知书送达"
BODY = "张伟律师：\n\n请查收本案应诉通知书及传票，开庭时间为2027年1月5日上午9时。\n\n威海市环翠区人民法院"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def smtp_server():
    with SmtpStandin() as server:
        yield server


@pytest.fixture
def mailer(smtp_server):
    return SmtpEmail("127.0.0.1", smtp_server.port, sender=SENDER, timeout=5)


def test_chinese_mail_with_attachment_arrives_intact(smtp_server, mailer):
    result = mailer.send_email(
        LAWYER, SUBJECT, BODY, [Attachment("传票（2026）123号.pdf", PDF, "application/pdf")]
    )

    assert result.status == "sent"
    [mail] = smtp_server.messages
    assert mail.mail_from == "service@court.example.cn"
    assert mail.rcpt_tos == (LAWYER,)
    assert mail.data.isascii()  # headers encoded, body base64: any relay carries it
    msg = mail.message
    assert msg["Subject"] == SUBJECT
    assert msg["From"].addresses[0].display_name == "环翠区人民法院送达中心"
    assert msg["Message-ID"] == result.provider_id
    assert msg.get_body(("plain",)).get_content().rstrip("\n") == BODY
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == "传票（2026）123号.pdf"
    assert att.get_content_type() == "application/pdf"
    assert att.get_content() == PDF


def test_temporary_failure_is_retryable(smtp_server, mailer):
    smtp_server.fail_next(1, code=451)
    with pytest.raises(ChannelError) as exc:
        mailer.send_email(LAWYER, SUBJECT, BODY)
    assert exc.value.retryable is True
    assert exc.value.code == 451
    assert smtp_server.messages == []
    mailer.send_email(LAWYER, SUBJECT, BODY)  # and the next try goes through
    assert len(smtp_server.messages) == 1


def test_permanent_failure_is_not_retryable(smtp_server, mailer):
    smtp_server.fail_next(1, code=550)
    with pytest.raises(ChannelError) as exc:
        mailer.send_email(LAWYER, SUBJECT, BODY)
    assert exc.value.retryable is False
    assert exc.value.code == 550


@pytest.mark.parametrize(("code", "retryable"), [(450, True), (550, False)])
def test_refused_recipient(smtp_server, mailer, code, retryable):
    smtp_server.fail_next(1, code=code, stage="RCPT")
    with pytest.raises(ChannelError) as exc:
        mailer.send_email(LAWYER, SUBJECT, BODY)
    assert exc.value.retryable is retryable
    assert exc.value.code == code


def test_login():
    with SmtpStandin(credentials=("court", "pw")) as server:
        good = SmtpEmail("127.0.0.1", server.port, sender=SENDER, username="court", password="pw")
        good.send_email(LAWYER, "s", "b")
        assert server.messages[0].login == "court"
        bad = SmtpEmail("127.0.0.1", server.port, sender=SENDER, username="court", password="no")
        with pytest.raises(ChannelError) as exc:
            bad.send_email(LAWYER, "s", "b")
        assert exc.value.code == 535
        assert exc.value.retryable is False


def test_starttls_not_offered_is_a_configuration_error(smtp_server):
    mailer = SmtpEmail("127.0.0.1", smtp_server.port, sender=SENDER, starttls=True)
    with pytest.raises(ChannelError) as exc:
        mailer.send_email(LAWYER, "s", "b")
    assert exc.value.retryable is False


def test_unreachable_server_is_retryable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connection refused
        mailer = SmtpEmail("127.0.0.1", port, sender=SENDER, timeout=1)
        with pytest.raises(ChannelError) as exc:
            mailer.send_email(LAWYER, "s", "b")
    assert exc.value.retryable is True


def test_bad_addresses_are_refused_before_connecting():
    with pytest.raises(ValueError):
        SmtpEmail("127.0.0.1", 25, sender="法院")
    mailer = SmtpEmail("127.0.0.1", 25, sender=SENDER)
    with pytest.raises(ValueError):
        mailer.send_email("not an address", "s", "b")
