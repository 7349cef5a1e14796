"""Topics: list, rename or hide, and merge the recurring subjects the pipeline links entries to."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import repository as repo
from diarist.analysis.errors import InvalidTopic, TopicNotFound
from diarist.models import Topic


async def list_topics(
    session: AsyncSession, user_id: uuid.UUID, *, min_entries: int, include_hidden: bool, limit: int
) -> list[dict[str, Any]]:
    """My topics with at least `min_entries` live entries, the most frequent first."""
    return await repo.list_topics(
        session, user_id, min_entries=min_entries, include_hidden=include_hidden, limit=limit
    )


async def _topic(session: AsyncSession, user_id: uuid.UUID, topic_id: uuid.UUID) -> Topic:
    topic = await repo.get_topic(session, user_id, topic_id)
    if topic is None:
        raise TopicNotFound("No such topic.")
    return topic


async def update_topic(
    session: AsyncSession,
    user_id: uuid.UUID,
    topic_id: uuid.UUID,
    *,
    name: str | None,
    hidden: bool | None,
) -> Topic:
    """Rename (its keywords still find it) or hide a topic."""
    topic = await _topic(session, user_id, topic_id)
    if name is not None:
        topic.name = name
    if hidden is not None:
        topic.hidden = hidden
    await session.flush()
    return topic


async def merge_topic(
    session: AsyncSession, user_id: uuid.UUID, source_id: uuid.UUID, target_id: uuid.UUID
) -> Topic:
    """Fold one topic into another; the source's keywords join the target from now on."""
    if source_id == target_id:
        raise InvalidTopic("A topic cannot be merged into itself.", field="into")
    source = await _topic(session, user_id, source_id)
    target = await _topic(session, user_id, target_id)
    await repo.merge_topics(session, source, target)
    return target
