"""The transports of PS_MAIL_METHOD against real things: an SMTP server (aiosmtpd) in plain,
STARTTLS and SSL modes with a certificate made here, a sendmail stand-in script, and
method 3 that sends nothing."""

from __future__ import annotations

import email
import email.policy
import smtplib
import ssl
import stat
import sys

import pytest

from psonlinechat.mail import messages
from psonlinechat.mail.settings import MailSettings, transport
from psonlinechat.mail.transports import NeverMailer, SendmailMailer, SmtpMailer
from tests.support.served import free_port
from tests.support.smtp import SmtpServer, TestCertificate

VARIABLES = {"shop_name": "Test shop", "firstname": "Ann", "lastname": "Lee",
             "email": "ann@example.test", "phone": "", "message": "Is it in stock?"}


def a_message():
    html, text = messages.render("offline_message", "en", VARIABLES)
    return messages.build_message(sender="Test shop <shop@example.test>",
                                  to="owner@example.test", subject_line="Hello",
                                  html=html, text=text, reply_to="ann@example.test")


@pytest.fixture(scope="module")
def tls():
    return TestCertificate.make()


@pytest.mark.parametrize("mode", ["plain", "starttls", "ssl"])
def test_smtp_delivers_in_each_mode(mode, tls):
    login = ("shop", "s3cret") if mode == "starttls" else None
    with SmtpServer(mode=mode, tls=tls, login=login) as server:
        mailer = SmtpMailer("127.0.0.1", server.port,
                            encryption={"plain": "off", "starttls": "tls", "ssl": "ssl"}[mode],
                            user=login[0] if login else "", password=login[1] if login else "",
                            context=tls.client_context())
        mailer.send(a_message())
        got = server.messages
    assert len(got) == 1
    assert got[0]["To"] == "owner@example.test" and got[0]["Reply-To"] == "ann@example.test"
    assert "Is it in stock?" in got[0].get_body(("plain",)).get_content()


def test_starttls_is_required_by_the_server_and_a_plain_client_is_refused(tls):
    with SmtpServer(mode="starttls", tls=tls) as server:
        with pytest.raises(smtplib.SMTPException):
            SmtpMailer("127.0.0.1", server.port, encryption="off").send(a_message())
        assert server.messages == []


def test_tls_checks_the_certificate(tls):
    other = TestCertificate.make()
    with SmtpServer(mode="ssl", tls=tls) as server:
        with pytest.raises(ssl.SSLError):
            SmtpMailer("127.0.0.1", server.port, encryption="ssl",
                       context=other.client_context()).send(a_message())
        with pytest.raises(ssl.SSLError):  # the system's trust store does not know it
            SmtpMailer("127.0.0.1", server.port, encryption="ssl").send(a_message())
        assert server.messages == []


def test_a_wrong_password_and_a_dead_server_are_oserrors(tls):
    with (SmtpServer(mode="starttls", tls=tls, login=("shop", "right")) as server,
          pytest.raises(OSError)):
        SmtpMailer("127.0.0.1", server.port, encryption="tls", user="shop",
                   password="wrong", context=tls.client_context()).send(a_message())
    with pytest.raises(OSError):
        SmtpMailer("127.0.0.1", free_port(), timeout=2).send(a_message())


def stand_in(tmp_path, status=0):
    """A sendmail stand-in: writes its arguments and its input to files, exits ``status``."""
    script = tmp_path / "sendmail"
    script.write_text(f"""#!{sys.executable}
import sys, pathlib
folder = pathlib.Path({str(tmp_path)!r})
(folder / "args").write_text(" ".join(sys.argv[1:]))
(folder / "input.eml").write_bytes(sys.stdin.buffer.read())
if {status}:
    print("cannot deliver", file=sys.stderr)
sys.exit({status})
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_method_1_pipes_the_message_to_sendmail_t_i(tmp_path):
    mailer = transport(MailSettings(method=1), sendmail=[str(stand_in(tmp_path)), "-t", "-i"])
    assert isinstance(mailer, SendmailMailer)
    mailer.send(a_message())
    assert (tmp_path / "args").read_text() == "-t -i"
    parsed = email.message_from_bytes((tmp_path / "input.eml").read_bytes(),
                                      policy=email.policy.default)
    assert parsed["To"] == "owner@example.test"


def test_method_1_failing_or_missing_binary_is_an_oserror(tmp_path):
    with pytest.raises(OSError, match="status 1: cannot deliver"):
        SendmailMailer([str(stand_in(tmp_path, status=1)), "-t", "-i"]).send(a_message())
    with pytest.raises(OSError):
        SendmailMailer([str(tmp_path / "no-such-sendmail")]).send(a_message())


def test_the_sendmail_command_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PSONLINECHAT_SENDMAIL", f"{stand_in(tmp_path)} -t -i")
    transport(MailSettings(method=1)).send(a_message())
    assert (tmp_path / "input.eml").exists()


def test_method_3_sends_nothing_and_method_2_needs_a_server(tls):
    with SmtpServer(tls=tls) as server:
        mailer = transport(MailSettings(method=3, server="127.0.0.1", port=server.port))
        assert isinstance(mailer, NeverMailer)
        mailer.send(a_message())
        assert server.messages == []
        smtp = transport(MailSettings(method=2, server="127.0.0.1", port=server.port))
        smtp.send(a_message())
        assert len(server.messages) == 1
    with pytest.raises(OSError, match="PS_MAIL_SERVER is empty"):
        transport(MailSettings(method=2, server=""))


def test_unknown_encryption_is_refused():
    with pytest.raises(ValueError, match="off, tls or ssl"):
        SmtpMailer("127.0.0.1", 25, encryption="starttls")
