"""A real SMTP server for tests (aiosmtpd) on this machine, plain, STARTTLS or TLS from the first
byte, with a self-signed certificate the client is told to trust."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "pier-mailer", "mail-password"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    encrypted: bool
    login: str | None

    @property
    def body(self) -> str:
        return str(self.message.get_content())


@dataclass
class Inbox:
    """What the server has accepted, in order."""

    mails: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        parsed = email.message_from_bytes(
            envelope.original_content or b"", policy=email.policy.default
        )
        assert isinstance(parsed, EmailMessage)
        data = session.auth_data if session.authenticated else None
        login = data.login.decode() if isinstance(data, LoginPassword) else None
        self.mails.append(
            Received(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                parsed,
                server.transport is not None
                and server.transport.get_extra_info("ssl_object") is not None,
                login,
            )
        )
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.mails) < count:
            assert time.monotonic() < deadline, f"{len(self.mails)} mails, wanted {count}"
            await asyncio.sleep(0.02)
        return self.mails


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False, auth_data=data)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost that signs itself, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pier test mail server")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MailServer:
    """An SMTP server in the test's event loop. `tls`: none, starttls (required, with a login)
    or tls (from the first byte)."""

    def __init__(self, tls: str = "none", cert: tuple[Path, Path] | None = None) -> None:
        self.tls = tls
        self.inbox = Inbox()
        self.port = 0
        self.context: ssl.SSLContext | None = None
        if tls != "none":
            assert cert is not None
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(*cert)
        self._server: asyncio.Server | None = None

    def _protocol(self) -> SMTP:
        if self.tls == "starttls":
            return SMTP(
                self.inbox,
                hostname="localhost",
                tls_context=self.context,
                require_starttls=True,
                auth_required=True,
                authenticator=_authenticate,
            )
        return SMTP(self.inbox, hostname="localhost")

    async def start(self, port: int = 0) -> MailServer:
        ssl_context = self.context if self.tls == "tls" else None
        self._server = await asyncio.get_running_loop().create_server(
            self._protocol, "127.0.0.1", port, ssl=ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
