"""Tag suggestions: what fits an entry (never applied unasked), accepting one, and the tags the
user marked `auto_apply` put on by the first analysis."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences as preferences_api
from diarist.analysis import repository as repo
from diarist.analysis.errors import SuggestionNotFound
from diarist.config import AnalysisSettings

AUTO_APPLY_CONFIDENCE = 0.6
SUGGESTION_CONFIDENCE = 0.3


async def apply_auto_rules(
    session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID, config: str, model: str
) -> None:
    """Tags the user marked `auto_apply` are put on when suggested with enough confidence."""
    for suggestion in await repo.tag_suggestions(session, user_id, entry_id, model, config):
        if suggestion["auto_apply"] and suggestion["confidence"] >= AUTO_APPLY_CONFIDENCE:
            await repo.assign_tag(
                session,
                user_id,
                entry_id,
                suggestion["tag_id"],
                "auto_rule",
                {"confidence": round(float(suggestion["confidence"]), 3),
                 "reasons": suggestion["reasons"]},
            )  # fmt: skip


async def suggest_tags(
    session: AsyncSession,
    settings: AnalysisSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    config: str,
) -> list[dict[str, Any]]:
    """Suggestions for the entry, above the confidence threshold; never applied here."""
    model = (await preferences_api.preferences_of(session, user_id)).embedding_model(settings)
    found = await repo.tag_suggestions(session, user_id, entry_id, model, config)
    return [s for s in found if s["confidence"] >= SUGGESTION_CONFIDENCE]


async def accept_suggestion(
    session: AsyncSession,
    settings: AnalysisSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    tag_id: uuid.UUID,
    config: str,
) -> None:
    """Put a suggested tag on the entry, keeping why it was suggested."""
    suggestion = next(
        (
            s
            for s in await suggest_tags(session, settings, user_id, entry_id, config)
            if s["tag_id"] == tag_id
        ),
        None,
    )
    if suggestion is None:
        raise SuggestionNotFound("This tag is not (or no longer) suggested for the entry.")
    await repo.assign_tag(
        session,
        user_id,
        entry_id,
        tag_id,
        "ai_suggested",
        {"confidence": round(float(suggestion["confidence"]), 3), "reasons": suggestion["reasons"]},
    )
