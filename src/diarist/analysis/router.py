"""HTTP routes of analysis results: topics (tag suggestions are entry routes, in journal)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.analysis import service as analysis_service
from diarist.analysis.schemas import TopicMerge, TopicOut, TopicPatch, TopicQuery
from diarist.db.session import DbSession
from diarist.kit.responses import problem_responses
from diarist.models import Topic

topics_router = APIRouter(prefix="/api/v1/topics", tags=["topics"])
_PROBLEM = problem_responses(400, 401, 403, 404, 422)


def _topic_out(topic: Topic) -> TopicOut:
    return TopicOut(id=topic.id, name=topic.name, hidden=topic.hidden)


@topics_router.get("", response_model=list[TopicOut], responses=_PROBLEM)
async def list_topics(
    query: Annotated[TopicQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> list[TopicOut]:
    """My recurring topics, by the number of live entries they appear in."""
    rows = await analysis_service.list_topics(
        session,
        me.user_id,
        min_entries=query.min_entries,
        include_hidden=query.include_hidden,
        limit=query.limit,
    )
    return [TopicOut.model_validate(row) for row in rows]


@topics_router.patch("/{topic_id}", response_model=TopicOut, responses=_PROBLEM)
async def update_topic(
    topic_id: uuid.UUID, body: TopicPatch, session: DbSession, me: CurrentPrincipal
) -> TopicOut:
    """Rename or hide (`hidden: true`) a topic."""
    topic = await analysis_service.update_topic(
        session, me.user_id, topic_id, name=body.name, hidden=body.hidden
    )
    return _topic_out(topic)


@topics_router.post("/{topic_id}/merge", response_model=TopicOut, responses=_PROBLEM)
async def merge_topic(
    topic_id: uuid.UUID, body: TopicMerge, session: DbSession, me: CurrentPrincipal
) -> TopicOut:
    """Fold this topic into `into`; its entries and future keywords go there."""
    return _topic_out(await analysis_service.merge_topic(session, me.user_id, topic_id, body.into))
