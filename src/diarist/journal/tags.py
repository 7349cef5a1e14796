"""The rules of tags: unique names per user, a hierarchy without cycles, relationships,
rename and merge. Usage counts are kept by the database (triggers), exact under concurrency."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts.principal import PendingPrincipal
from diarist.journal import repository as repo
from diarist.journal.errors import (
    InvalidTag,
    RelationshipExists,
    RelationshipNotFound,
    TagCycle,
    TagExists,
    TagNotFound,
)
from diarist.journal.schemas import RelationshipCreate, TagCreate, TagUpdate
from diarist.models import Tag, TagRelationship

_UNIQUE_NAME = "uq_tags_user_id_name_key"


def normalize_name(name: str) -> str:
    return " ".join(name.split())


async def get_tag(session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID) -> Tag:
    tag = await repo.get_tag(session, user_id, tag_id)
    if tag is None:
        raise TagNotFound("No such tag.")
    return tag


async def list_tags(
    session: AsyncSession, user_id: uuid.UUID, *, query: str | None, limit: int
) -> list[Tag]:
    return await repo.list_tags(session, user_id, query=query, limit=limit)


async def list_tags_checked(
    session: AsyncSession, pending: PendingPrincipal, *, query: str | None, limit: int
) -> list[Any]:
    """`list_tags`, read in the same round trip as the token check (db.pipeline), which is
    confirmed before anything else."""
    _, (rows,) = await pending.read(session, repo.tag_list_statement(query=query, limit=limit))
    return rows


async def _check_parent(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID | None, parent_id: uuid.UUID
) -> None:
    if await repo.get_tag(session, user_id, parent_id) is None:
        raise InvalidTag("The parent tag does not exist.", field="parent_id")
    if tag_id is not None:
        await repo.lock_tag_tree(session, user_id)
        if tag_id in await repo.ancestors(session, user_id, parent_id):
            raise TagCycle("A tag cannot be placed below itself or its own descendants.")


async def _write(session: AsyncSession, action: Any) -> Tag:
    try:
        async with session.begin_nested():
            tag: Tag = await action
            return tag
    except IntegrityError as exc:
        if getattr(exc.orig, "diag", None) and exc.orig.diag.constraint_name == _UNIQUE_NAME:  # type: ignore[union-attr]
            raise TagExists("A tag with this name exists already.") from None
        raise


async def create_tag(session: AsyncSession, user_id: uuid.UUID, data: TagCreate) -> Tag:
    name = normalize_name(data.name)
    if not name:
        raise InvalidTag("A tag name needs visible characters.", field="name")
    if data.parent_id is not None:
        await _check_parent(session, user_id, None, data.parent_id)
    values = {
        "user_id": user_id,
        "name": name,
        "color": data.color.lower() if data.color else None,
        "icon": data.icon,
        "description": data.description,
        "parent_id": data.parent_id,
        "auto_apply": bool(data.auto_apply),
    }
    return await _write(session, repo.insert_tag(session, values))


async def update_tag(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, data: TagUpdate
) -> Tag:
    """Rename, recolour, describe or move a tag (`parent_id: null` makes it a root)."""
    await get_tag(session, user_id, tag_id)
    fields = data.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    if "name" in fields:
        name = normalize_name(fields["name"] or "")
        if not name:
            raise InvalidTag("A tag name needs visible characters.", field="name")
        values["name"] = name
    if "color" in fields:
        values["color"] = fields["color"].lower() if fields["color"] else None
    for key in ("icon", "description"):
        if key in fields:
            values[key] = fields[key]
    if fields.get("auto_apply") is not None:
        values["auto_apply"] = fields["auto_apply"]
    if "parent_id" in fields:
        if fields["parent_id"] is not None:
            await _check_parent(session, user_id, tag_id, fields["parent_id"])
        values["parent_id"] = fields["parent_id"]
    values["updated_at"] = func.now()
    return await _write(session, repo.update_tag(session, tag_id, values))


async def delete_tag(session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID) -> None:
    """Delete a tag; its entries keep their other tags, its children become roots."""
    await get_tag(session, user_id, tag_id)
    await repo.delete_tag(session, tag_id)


async def merge_tag(
    session: AsyncSession, user_id: uuid.UUID, source_id: uuid.UUID, target_id: uuid.UUID
) -> Tag:
    """Fold `source` into `target`: its entries, children and relationships move over."""
    if source_id == target_id:
        raise InvalidTag("A tag cannot be merged into itself.", field="into")
    await repo.lock_tag_tree(session, user_id)
    source = await get_tag(session, user_id, source_id)
    await get_tag(session, user_id, target_id)
    if target_id in await repo.descendants(session, user_id, source_id):
        # The target takes the source's place in the tree before the source's children move.
        await repo.update_tag(session, target_id, {"parent_id": source.parent_id})
    await repo.move_tag_links(session, user_id, source_id, target_id)
    await repo.delete_tag(session, source_id)
    return await get_tag(session, user_id, target_id)


async def create_relationship(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, data: RelationshipCreate
) -> TagRelationship:
    if data.related_tag_id == tag_id:
        raise InvalidTag("A tag cannot be related to itself.", field="related_tag_id")
    await get_tag(session, user_id, tag_id)
    if await repo.get_tag(session, user_id, data.related_tag_id) is None:
        raise InvalidTag("The related tag does not exist.", field="related_tag_id")
    row = await repo.insert_relationship(
        session,
        {
            "user_id": user_id,
            "tag_id": tag_id,
            "related_tag_id": data.related_tag_id,
            "kind": data.kind,
            "strength": data.strength,
        },
    )
    if row is None:
        raise RelationshipExists("These tags are linked this way already.")
    return row


async def list_relationships(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID
) -> list[TagRelationship]:
    await get_tag(session, user_id, tag_id)
    return await repo.list_relationships(session, tag_id)


async def delete_relationship(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, relationship_id: uuid.UUID
) -> None:
    await get_tag(session, user_id, tag_id)
    if not await repo.delete_relationship(session, user_id, tag_id, relationship_id):
        raise RelationshipNotFound("No such relationship.")
