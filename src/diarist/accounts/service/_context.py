"""What every account rule shares: who asks, what the rules need, what they hand back, and the
one form of an email address."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import email_validator
import structlog
from fastapi import BackgroundTasks

from diarist.accounts.errors import InvalidEmail
from diarist.accounts.mailer import Mailer, build_mailer
from diarist.accounts.secrets import Keyring
from diarist.config import Settings
from diarist.errors import DiaristError
from diarist.kit.clock import Clock, SystemClock

_log = structlog.get_logger("diarist.accounts")


@dataclass(frozen=True)
class Client:
    """Who is asking, as far as the request tells."""

    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class AccountsContext:
    """What the account rules need besides the session: settings, keys, mail and time."""

    settings: Settings
    keyring: Keyring
    mailer: Mailer
    clock: Clock

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountsContext:
        """The production context: keys from the secret key, the configured mailer, real time."""
        return cls(
            settings=settings,
            keyring=Keyring(settings.checked_secret_key()),
            mailer=build_mailer(settings.mail),
            clock=SystemClock(),
        )


@dataclass(frozen=True)
class Issued:
    """A session token just issued: shown to the client once, stored only as its digest."""

    token: str
    token_id: uuid.UUID
    expires_at: datetime | None


@dataclass(frozen=True)
class Mail:
    """A message to send after the transaction commits (so that timing reveals no account)."""

    to: str
    subject: str
    body: str


async def _send(mailer: Mailer, mail: Mail) -> None:
    try:
        await mailer.send(mail.to, mail.subject, mail.body)
    except DiaristError as exc:
        _log.warning("mail_not_sent", code=exc.code)


def send_after_response(
    background: BackgroundTasks, ctx: AccountsContext, mail: Mail | None
) -> None:
    """Send `mail` (if any) after the response, so that an existing account does not answer
    slower than a missing one."""
    if mail is not None:
        background.add_task(_send, ctx.mailer, mail)


def normalize_email(raw: str) -> str:
    """Trimmed, validated, lower-cased: the one form stored and compared."""
    try:
        checked = email_validator.validate_email(raw.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise InvalidEmail("This is not a valid email address.") from None
    return checked.normalized.lower()
