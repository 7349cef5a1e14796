"""What every account rule shares: who asks, what the rules need, what they hand back, and the
one form of an email address."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import email_validator

from diarist.accounts.errors import InvalidEmail
from diarist.accounts.mailer import Mailer, build_mailer
from diarist.accounts.oidc import Providers
from diarist.accounts.personal_data import USER_EMAIL, PersonalData
from diarist.accounts.secrets import Keyring
from diarist.config import Settings
from diarist.kit.clock import Clock, SystemClock
from diarist.models import User


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
    # The OpenID Connect providers to sign in with (their metadata and keys, cached).
    providers: Providers = field(init=False)
    # Seals and opens addresses and the like at rest; the email's blind index.
    personal: PersonalData = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "providers", Providers(self.settings))
        object.__setattr__(self, "personal", PersonalData.from_settings(self.settings))

    def email_of(self, user: User) -> str:
        """The user's address, opened."""
        return self.personal.open(USER_EMAIL, user.email_sealed)

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


def normalize_email(raw: str) -> str:
    """Trimmed, validated, lower-cased: the one form stored and compared."""
    try:
        checked = email_validator.validate_email(raw.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise InvalidEmail("This is not a valid email address.") from None
    return checked.normalized.lower()
