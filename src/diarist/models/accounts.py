"""Accounts: users, their sessions and tokens, one-time codes, security events, login throttling."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base, Timestamps, UUIDv7PrimaryKey, in_list, user_fk

# "email" (a password), "otp" (emailed codes only) or the name of the OpenID Connect provider
# the account was made through (config.PROVIDER_NAME).
AUTH_PROVIDER_CHECK = "auth_provider ~ '^[a-z][a-z0-9_-]{0,31}$'"
TOKEN_KINDS = ("session", "pat")
TOKEN_SCOPES = ("read", "read_write")
CODE_PURPOSES = ("login", "verify_email", "reset_password")
SECURITY_EVENTS = (
    "register",
    "login",
    "logout",
    "failed_login",
    "password_changed",
    "password_reset",
    "email_verified",
    "session_revoked",
    "token_created",
    "token_revoked",
    "deactivated",
    "reactivated",
    "identity_linked",
    "identity_unlinked",
    # The vault's (the tag's id only, never what it holds).
    "vault_tag_created",
    "vault_unlocked",
    "vault_login_failed",
    "vault_login_started",
    "vault_login_throttled",
    "vault_phrase_changed",
    "vault_tag_deleted",
)
# How much a security event matters (accounts/event_chain.py gives each type its own).
SECURITY_SEVERITIES = ("info", "notice", "warning")


class User(UUIDv7PrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("length(name) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint(AUTH_PROVIDER_CHECK, name="auth_provider"),
        CheckConstraint(
            "deactivated_by IS NULL OR deactivated_by IN ('self', 'admin')", name="deactivated_by"
        ),
        CheckConstraint("is_active = (deactivated_by IS NULL)", name="active_matches_reason"),
        Index("uq_users_email_index", "email_index", unique=True),
    )

    # The address, sealed (accounts/personal_data.py), and its keyed blind index (to find an
    # account by address, and to keep addresses unique).
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    email_index: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(Text)
    # NULL for accounts that sign in only with emailed codes (auth_provider 'otp').
    password_hash: Mapped[str | None] = mapped_column(Text)
    auth_provider: Mapped[str] = mapped_column(Text, server_default="email")
    # The provider's subject for an account made through one (its identity is in
    # user_identities, with any other linked later).
    auth_provider_id: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    deactivated_by: Mapped[str | None] = mapped_column(Text)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class AuthToken(UUIDv7PrimaryKey, Base):
    """A login session or a personal access token; only the token's SHA-256 is stored."""

    __tablename__ = "auth_tokens"
    __table_args__ = (
        CheckConstraint(in_list("kind", TOKEN_KINDS), name="kind"),
        CheckConstraint(in_list("scope", TOKEN_SCOPES), name="scope"),
        CheckConstraint("kind = 'pat' OR name IS NULL", name="name_only_for_pat"),
        CheckConstraint("length(name) BETWEEN 1 AND 100", name="name_length"),
        Index("uq_auth_tokens_token_hash", "token_hash", unique=True),
        Index("ix_auth_tokens_user_id_kind", "user_id", "kind"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, server_default="read_write")
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # Where it was issued from, sealed (accounts/personal_data.py).
    ip_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    user_agent_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Sliding for sessions (moved forward on use, never past absolute_expires_at); NULL: never.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    absolute_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuthCode(UUIDv7PrimaryKey, Base):
    """An emailed one-time code (login, email verification, password reset), stored as an HMAC."""

    __tablename__ = "auth_codes"
    __table_args__ = (
        CheckConstraint(in_list("purpose", CODE_PURPOSES), name="purpose"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_auth_codes_user_id_purpose", "user_id", "purpose"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    purpose: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SecurityEvent(UUIDv7PrimaryKey, Base):
    """The user's own security log: what happened, how much it matters, from a hashed address
    and user agent, in which request."""

    __tablename__ = "security_events"
    __table_args__ = (
        CheckConstraint(in_list("event_type", SECURITY_EVENTS), name="event_type"),
        CheckConstraint(in_list("severity", SECURITY_SEVERITIES), name="severity"),
        CheckConstraint("chain_version IN (1, 2)", name="chain_version"),
        Index("ix_security_events_user_id_id", "user_id", "id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    event_type: Mapped[str] = mapped_column(Text)
    ip_hash: Mapped[str | None] = mapped_column(Text)
    user_agent_hash: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    severity: Mapped[str] = mapped_column(Text, server_default="info")
    # The request's X-Request-ID (as in the logs and the audit trail); None outside a request.
    request_id: Mapped[str | None] = mapped_column(Text)
    # What the signature covers: 1, the first fields; 2, also severity and request id.
    chain_version: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    # The user's chain: the HMAC-SHA256 of this event's canonical JSON, which includes the
    # previous event's signature (None: events from before the chain).
    prev_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuthThrottle(Base):
    """Failed-attempt counters per account or per client address (keys are keyed hashes).

    Not user-owned: it is consulted before anyone is authenticated, and holds no identifier.
    """

    __tablename__ = "auth_throttle"
    __table_args__ = (
        PrimaryKeyConstraint("kind", "key_hash", name="pk_auth_throttle"),
        CheckConstraint("kind IN ('account', 'ip')", name="kind"),
    )

    kind: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserIdentity(UUIDv7PrimaryKey, Base):
    """An OpenID Connect identity linked to an account: who the provider (its issuer) says
    signs in (the subject). One identity a provider per account; one account per identity."""

    __tablename__ = "user_identities"
    __table_args__ = (
        CheckConstraint("provider ~ '^[a-z][a-z0-9_-]{0,31}$'", name="provider_format"),
        CheckConstraint("length(issuer) BETWEEN 1 AND 2000", name="issuer_length"),
        CheckConstraint("length(subject) BETWEEN 1 AND 255", name="subject_length"),
        Index("uq_user_identities_issuer_subject", "issuer", "subject", unique=True),
        Index("uq_user_identities_user_id_provider", "user_id", "provider", unique=True),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    provider: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    # The address the provider gave when the identity was linked (shown in the settings),
    # sealed (accounts/personal_data.py).
    email_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
