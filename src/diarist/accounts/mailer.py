"""Outgoing mail behind one interface: SMTP for real use, the console for development."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import sys
from email.message import EmailMessage
from typing import Protocol, TextIO

import structlog

from diarist.accounts.errors import MailUnavailable
from diarist.config import MailSettings

_log = structlog.get_logger("diarist.mail")


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None: ...


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


class ConsoleMailer:
    """Writes each mail to a stream (stdout), for development; not to the log, which must never
    carry codes."""

    def __init__(self, sender: str, stream: TextIO | None = None) -> None:
        self.sender = sender
        self.stream = stream or sys.stdout

    async def send(self, to: str, subject: str, body: str) -> None:
        self.stream.write(f"{_message(self.sender, to, subject, body).as_string()}\n")
        self.stream.flush()


class SmtpMailer:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def _send_blocking(self, message: EmailMessage) -> None:
        s = self.settings
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.smtp_security == "tls":
            client = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s, context=context
            )
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s)
        with client:
            if s.smtp_security == "starttls":
                client.starttls(context=context)
            if s.smtp_username and s.smtp_password:
                client.login(s.smtp_username, s.smtp_password.get_secret_value())
            client.send_message(message)

    async def send(self, to: str, subject: str, body: str) -> None:
        message = _message(self.settings.from_address, to, subject, body)
        try:
            await asyncio.to_thread(self._send_blocking, message)
        except (OSError, smtplib.SMTPException) as exc:
            _log.warning("mail_failed", error=type(exc).__name__)
            raise MailUnavailable("The mail server did not accept the message.") from None
        _log.info("mail_sent")  # not the subject: a reminder's carries its title


def build_mailer(settings: MailSettings) -> Mailer:
    if settings.backend == "smtp":
        return SmtpMailer(settings)
    return ConsoleMailer(settings.from_address)
