"""HTTP routes of tags (`/api/v1/tags`): the tags, their hierarchy, merging and
relationships."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from diarist.accounts.dependencies import CurrentPrincipal, UncheckedPrincipal
from diarist.db.session import DbSession
from diarist.journal import tags as tags_service
from diarist.journal.schemas import (
    RelationshipCreate,
    RelationshipOut,
    TagCreate,
    TagListQuery,
    TagMerge,
    TagOut,
    TagUpdate,
)
from diarist.kit.responses import problem_responses
from diarist.models import Tag, TagRelationship

tags_router = APIRouter(prefix="/api/v1/tags", tags=["tags"])

_PROBLEM = problem_responses(400, 401, 403, 404, 409, 412, 413, 422)


def _tag_out(tag: Tag) -> TagOut:
    return TagOut(
        id=tag.id,
        name=tag.name,
        color=tag.color,
        icon=tag.icon,
        description=tag.description,
        parent_id=tag.parent_id,
        auto_apply=tag.auto_apply,
        usage_count=tag.usage_count,
        created_at=tag.created_at,
        updated_at=tag.updated_at,
    )


def _relationship_out(row: TagRelationship) -> RelationshipOut:
    return RelationshipOut(
        id=row.id,
        tag_id=row.tag_id,
        related_tag_id=row.related_tag_id,
        kind=row.kind,
        strength=float(row.strength),
        created_at=row.created_at,
    )


@tags_router.get("", response_model=list[TagOut], responses=_PROBLEM)
async def list_tags(
    query: Annotated[TagListQuery, Query()], session: DbSession, pending: UncheckedPrincipal
) -> list[TagOut]:
    """My tags by name, or those resembling `q` (typo-tolerant)."""
    rows = await tags_service.list_tags_checked(session, pending, query=query.q, limit=query.limit)
    return [_tag_out(t) for t in rows]


@tags_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=TagOut, responses=_PROBLEM
)
async def create_tag(body: TagCreate, session: DbSession, me: CurrentPrincipal) -> TagOut:
    return _tag_out(await tags_service.create_tag(session, me.user_id, body))


@tags_router.get("/{tag_id}", response_model=TagOut, responses=_PROBLEM)
async def get_tag(tag_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> TagOut:
    return _tag_out(await tags_service.get_tag(session, me.user_id, tag_id))


@tags_router.patch("/{tag_id}", response_model=TagOut, responses=_PROBLEM)
async def update_tag(
    tag_id: uuid.UUID, body: TagUpdate, session: DbSession, me: CurrentPrincipal
) -> TagOut:
    """Rename, recolour, describe or move (`parent_id`) a tag."""
    return _tag_out(await tags_service.update_tag(session, me.user_id, tag_id, body))


@tags_router.delete("/{tag_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_PROBLEM)
async def delete_tag(tag_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> Response:
    await tags_service.delete_tag(session, me.user_id, tag_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@tags_router.post("/{tag_id}/merge", response_model=TagOut, responses=_PROBLEM)
async def merge_tag(
    tag_id: uuid.UUID, body: TagMerge, session: DbSession, me: CurrentPrincipal
) -> TagOut:
    """Fold this tag into `into`: its entries, children and relationships move there."""
    return _tag_out(await tags_service.merge_tag(session, me.user_id, tag_id, body.into))


@tags_router.get(
    "/{tag_id}/relationships", response_model=list[RelationshipOut], responses=_PROBLEM
)
async def list_relationships(
    tag_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> list[RelationshipOut]:
    rows = await tags_service.list_relationships(session, me.user_id, tag_id)
    return [_relationship_out(r) for r in rows]


@tags_router.post(
    "/{tag_id}/relationships",
    status_code=status.HTTP_201_CREATED,
    response_model=RelationshipOut,
    responses=_PROBLEM,
)
async def create_relationship(
    tag_id: uuid.UUID, body: RelationshipCreate, session: DbSession, me: CurrentPrincipal
) -> RelationshipOut:
    """Link two tags as synonyms, related, or mutually exclusive (strength 0-1)."""
    row = await tags_service.create_relationship(session, me.user_id, tag_id, body)
    return _relationship_out(row)


@tags_router.delete(
    "/{tag_id}/relationships/{relationship_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_PROBLEM,
)
async def delete_relationship(
    tag_id: uuid.UUID, relationship_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> Response:
    await tags_service.delete_relationship(session, me.user_id, tag_id, relationship_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
