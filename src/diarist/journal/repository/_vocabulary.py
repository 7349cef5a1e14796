"""The vocabulary's upkeep: writes of entries record their words' changes (a trigger, see
db/sql/journal/entries_vocabulary.sql); `vocabulary_fold()` counts them into user_words."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import VocabularyChange


async def fold_vocabulary(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Count the user's recorded changes into their vocabulary; how many there were."""
    return int(await session.scalar(select(func.vocabulary_fold(user_id))) or 0)


async def users_with_vocabulary_changes(session: AsyncSession, limit: int) -> list[uuid.UUID]:
    """Users whose vocabulary has changes to count (system role: anyone's)."""
    rows = await session.scalars(
        select(VocabularyChange.user_id).group_by(VocabularyChange.user_id).limit(limit)
    )
    return list(rows)
