"""Sends one plain-text e-mail through the mail server the settings name (aiosmtplib).

`smtp_tls` says how the connection is protected: `starttls` (a plain connection upgraded with
STARTTLS, which the server must offer), `tls` (TLS from the first byte, usually port 465) or
`none`. The server's certificate is checked against the system's trusted authorities.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from pier.settings import Settings

DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
TIMEOUT = 20.0  # seconds for each step of talking to the mail server


def enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2]
    mail["Message-ID"] = make_msgid(domain=domain or None)
    mail.set_content(text)
    return mail


async def send(settings: Settings, mail: EmailMessage) -> None:
    """Hand the message to the mail server; any failure raises (aiosmtplib's or an OSError)."""
    await aiosmtplib.send(
        mail,
        hostname=settings.smtp_host,
        port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_tls],
        username=settings.smtp_user or None,
        password=settings.smtp_password if settings.smtp_user else None,
        use_tls=settings.smtp_tls == "tls",
        start_tls=settings.smtp_tls == "starttls",  # False: never, even when offered
        timeout=TIMEOUT,
    )
