"""HTTP routes of analysis results: topics and tag suggestions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field, StringConstraints

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.analysis import service as analysis_service
from diarist.db.session import DbSession
from diarist.journal import service as entries_service
from diarist.kit.settings import AppSettings
from diarist.kit.validation import StrictInput
from diarist.models import Topic

topics_router = APIRouter(prefix="/api/v1/topics", tags=["topics"])
suggestions_router = APIRouter(prefix="/api/v1/entries", tags=["entries"])
_PROBLEM: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem+json"} for code in (400, 401, 403, 404, 422)
}


class TopicOut(BaseModel):
    id: uuid.UUID
    name: str
    hidden: bool
    entries: int | None = None
    relevance: float | None = None


class TopicQuery(StrictInput):
    min_entries: int = Field(default=2, ge=1, le=1000)
    include_hidden: bool = False
    limit: int = Field(default=50, ge=1, le=500)


class TopicPatch(StrictInput):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    hidden: bool | None = None


class TopicMerge(StrictInput):
    into: uuid.UUID


class TagSuggestion(BaseModel):
    tag_id: uuid.UUID
    name: str
    confidence: float
    reasons: list[str]
    auto_apply: bool


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


@suggestions_router.get(
    "/{entry_id}/tag-suggestions", response_model=list[TagSuggestion], responses=_PROBLEM
)
async def suggest_tags(
    entry_id: uuid.UUID, settings: AppSettings, session: DbSession, me: CurrentPrincipal
) -> list[TagSuggestion]:
    """My tags that fit this entry (from its topics and from entries like it), with why."""
    entry = await entries_service.get_entry(session, me.user_id, entry_id, deleted=False)
    found = await analysis_service.suggest_tags(
        session, settings.analysis, me.user_id, entry.id, str(entry.search_config)
    )
    return [TagSuggestion.model_validate(row) for row in found]


@suggestions_router.post(
    "/{entry_id}/tag-suggestions/{tag_id}/accept",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_PROBLEM,
)
async def accept_suggestion(
    entry_id: uuid.UUID,
    tag_id: uuid.UUID,
    settings: AppSettings,
    session: DbSession,
    me: CurrentPrincipal,
) -> Response:
    """Put a suggested tag on the entry (recorded as `ai_suggested`, with the reasons)."""
    entry = await entries_service.get_entry(session, me.user_id, entry_id, deleted=False)
    await analysis_service.accept_suggestion(
        session,
        settings.analysis,
        me.user_id,
        entry.id,
        tag_id,
        str(entry.search_config),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
