"""What other domains read of a user's preferences: their zone and language, what they allow
analysis to do, and the embedding model (vector space) their entries live in as a result.

The public face of accounts for every other domain; the document itself is validated by
`accounts.schemas.Preferences` when written.
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.config import AnalysisSettings
from diarist.db.engine import TENANT_KEY
from diarist.models.analysis import LOCAL_EMBEDDING_MODEL, remote_model_name

# The remote analysis provider's name among a user's `ai_processing.providers`.
REMOTE_PROVIDER = "openai"


@dataclass(frozen=True, slots=True)
class UserPreferences:
    timezone: str = "UTC"
    language: str = "en"
    # The user allows analysis at all (the default).
    analysis_enabled: bool = True
    providers: frozenset[str] = frozenset({"local"})

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> UserPreferences:
        """From the stored JSON document; a missing or empty value takes the default."""
        ai = document.get("ai_processing") or {}
        return cls(
            timezone=str(document.get("timezone") or "UTC"),
            language=str(document.get("language") or "en"),
            analysis_enabled=bool(ai.get("enabled", True)),
            providers=frozenset(ai.get("providers") or ()),
        )

    @property
    def allows_remote_analysis(self) -> bool:
        """Diary text may leave the machine: analysis enabled and the remote provider chosen."""
        return self.analysis_enabled and REMOTE_PROVIDER in self.providers

    def today(self) -> date:
        """Today in the user's time zone (UTC for a zone this machine does not know)."""
        try:
            zone = zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        return datetime.now(zone).date()

    def embedding_model(self, settings: AnalysisSettings) -> str:
        """The embedding model the user's entries are searched and compared with: the remote
        one when it is active and the user allows it, else the local one."""
        model = settings.openai.embedding_model
        if settings.embedding_provider == REMOTE_PROVIDER and model and self.allows_remote_analysis:
            return remote_model_name(model)
        return LOCAL_EMBEDDING_MODEL


def embedding_models(settings: AnalysisSettings) -> tuple[str, ...]:
    """Every model `UserPreferences.embedding_model` may name under `settings`."""
    model = settings.openai.embedding_model
    if settings.embedding_provider == REMOTE_PROVIDER and model:
        return LOCAL_EMBEDDING_MODEL, remote_model_name(model)
    return (LOCAL_EMBEDDING_MODEL,)


# The acting user's preferences as read with their token (session.info, one request long).
_REQUEST_KEY = "preferences"


def remember_for_request(session: AsyncSession, document: Mapping[str, Any]) -> None:
    """Keep the preferences read with the request's token, so no domain reads them again."""
    session.info[_REQUEST_KEY] = UserPreferences.from_document(document)


def forget_for_request(session: AsyncSession) -> None:
    """The acting user's preferences changed: the remembered ones are stale."""
    session.info.pop(_REQUEST_KEY, None)


async def preferences_of(session: AsyncSession, user_id: uuid.UUID) -> UserPreferences:
    """A user's preferences: those read with the request's token when `user_id` is the acting
    user (no query), else from their row."""
    remembered = session.info.get(_REQUEST_KEY)
    if session.info.get(TENANT_KEY) == user_id and isinstance(remembered, UserPreferences):
        return remembered
    user = await repo.get_user(session, user_id)
    return UserPreferences.from_document(user.preferences if user else {})
