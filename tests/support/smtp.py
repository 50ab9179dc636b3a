"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1), in plain, STARTTLS or
implicit-TLS mode, with a certificate made here and a client context that trusts it.

Usage::

    tls = TestCertificate.make()
    with SmtpServer(mode="starttls", tls=tls, login=("user", "secret")) as server:
        ... send to 127.0.0.1:server.port with tls.client_context() ...
        server.messages    # the parsed messages received, in order
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.message
import email.policy
import ipaddress
import ssl
import tempfile
import threading
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.served import free_port


@dataclasses.dataclass(frozen=True)
class TestCertificate:
    """A self-signed certificate for 127.0.0.1 (PEM) and its key."""

    __test__ = False
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def make(cls) -> TestCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "psonlinechat test SMTP")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        return cls(cert.public_bytes(serialization.Encoding.PEM),
                   key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.NamedTemporaryFile() as cert, tempfile.NamedTemporaryFile() as key:
            cert.write(self.cert_pem)
            key.write(self.key_pem)
            cert.flush()
            key.flush()
            context.load_cert_chain(cert.name, key.name)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only this certificate (hostname checked)."""
        return ssl.create_default_context(cadata=self.cert_pem.decode("ascii"))


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


class SmtpServer:
    """An SMTP server on 127.0.0.1:``port`` (a free one by default) while in ``with``.

    :param mode: ``plain``, ``starttls`` (STARTTLS required before MAIL) or ``ssl``.
    :param login: ``(user, password)`` the server demands after STARTTLS, or ``None``
        (aiosmtpd counts only STARTTLS as TLS for AUTH).
    """

    def __init__(self, *, mode: str = "plain", tls: TestCertificate | None = None,
                 login: tuple[str, str] | None = None, port: int | None = None) -> None:
        self.mode, self.port = mode, port or free_port()
        self.recorder = _Recorder()
        options: dict[str, Any] = {}
        if mode == "ssl":
            options["ssl_context"] = tls.server_context()  # type: ignore[union-attr]
        elif mode == "starttls":
            options.update(tls_context=tls.server_context(),  # type: ignore[union-attr]
                           require_starttls=True)
        if login is not None:
            options.update(authenticator=self._authenticator(login), auth_required=True)
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port,
                                     **options)

    @staticmethod
    def _authenticator(login: tuple[str, str]) -> Any:
        def check(server: Any, session: Any, envelope: Any, mechanism: str,
                  data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (
                data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok, handled=False)
        return check

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        with self.recorder.lock:
            return list(self.recorder.messages)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
