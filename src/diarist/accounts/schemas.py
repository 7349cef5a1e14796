"""Request and response shapes of the accounts API."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from diarist.kit.validation import BodyInt, StrictInput, time_zones

# Lengths are checked here (cheap) before any policy or hashing work; see docs/api.md.
Email = Annotated[str, Field(min_length=3, max_length=254)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
Code = Annotated[str, Field(pattern=r"^\s*\d{6}\s*$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(StrictInput):
    pass


class RegisterIn(Strict):
    email: Email
    name: Name
    # Omitted: the account signs in with emailed codes only (auth_provider 'otp').
    password: Password | None = None


class LoginIn(Strict):
    email: Email
    password: Password


class EmailIn(Strict):
    email: Email


class CodeLoginIn(Strict):
    email: Email
    code: Code


# Sessions end on a password change or reset, and on "sign out everywhere"; personal access
# tokens (scripts, the CLI) only when asked: docs/security.md.
RevokePersonalTokens = Annotated[
    bool,
    Field(description="Also revoke personal access tokens (not the one making this request)."),
]


class PasswordResetIn(Strict):
    email: Email
    code: Code
    new_password: Password
    revoke_personal_tokens: RevokePersonalTokens = False


class PasswordChangeIn(Strict):
    current_password: Password
    new_password: Password
    revoke_personal_tokens: RevokePersonalTokens = False


class RevokeSessionsIn(Strict):
    revoke_personal_tokens: RevokePersonalTokens = False


class ReauthIn(Strict):
    """Proof of presence for destructive actions: the password, or a fresh login code."""

    password: Password | None = None
    code: Code | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name
    expires_at: datetime | None


class AiProcessing(Strict):
    enabled: bool = True
    providers: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=lambda: ["local"], max_length=10
    )
    analysis_depth: Literal["basic", "standard", "detailed"] = "standard"


class Privacy(Strict):
    data_sharing: bool = False
    analytics_enabled: bool = False


ReminderChannel = Literal["app", "email", "webhook", "push"]


class QuietHours(Strict):
    """No email or webhook between these local times (the in-app feed still fills); `end`
    before `start` spans midnight."""

    start: dt.time
    end: dt.time

    @field_validator("start", "end")
    @classmethod
    def _wall_clock(cls, value: dt.time) -> dt.time:
        if value.tzinfo is not None:
            raise ValueError("a wall-clock time without offset (the zone is the account's)")
        return value


class Notifications(Strict):
    email_insights: bool = False
    processing_complete: bool = False
    # Where a reminder that names no channels of its own is told; the feed ("app") always.
    reminder_channels: list[ReminderChannel] = Field(
        default_factory=lambda: list[ReminderChannel](["app"]), max_length=4
    )
    quiet_hours: QuietHours | None = None


class Preferences(Strict):
    """The seed 000 preferences document, validated; diarist's defaults are the private ones."""

    timezone: str = "UTC"
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    ai_processing: AiProcessing = Field(default_factory=AiProcessing)
    privacy: Privacy = Field(default_factory=Privacy)
    notifications: Notifications = Field(default_factory=Notifications)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in time_zones():
            raise ValueError("not an IANA time zone (e.g. Europe/Berlin)")
        return value


class ProfilePatch(Strict):
    name: Name | None = None
    # Merged into the stored preferences section by section; validated as a whole.
    preferences: dict[str, Any] | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    auth_provider: str
    is_active: bool
    email_verified: bool
    preferences: Preferences
    created_at: datetime
    last_login_at: datetime | None


class SessionOut(BaseModel):
    id: uuid.UUID
    current: bool
    ip_address: str | None
    user_agent: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime | None


class PatCreateIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scope: Literal["read", "read_write"] = "read"
    expires_in_days: Annotated[BodyInt, Field(ge=1, le=3650)] | None = None


class PatOut(BaseModel):
    id: uuid.UUID
    name: str
    scope: Literal["read", "read_write"]
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime | None


class PatCreatedOut(PatOut):
    token: str = Field(description="Shown once; only its hash is stored.")


class SecurityEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_type: str
    # info (signing in and out), notice (a change to how one signs in), warning (a failure).
    severity: str
    ip_hash: str | None
    user_agent_hash: str | None
    details: dict[str, Any]
    created_at: datetime
    # The X-Request-ID of the request it happened in (also in the logs and the audit trail).
    request_id: str | None


class SecurityEventPage(BaseModel):
    items: list[SecurityEventOut]
    next_cursor: str | None


class RevokedOut(BaseModel):
    revoked: int


class Accepted(BaseModel):
    detail: str
