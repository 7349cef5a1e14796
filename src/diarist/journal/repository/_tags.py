"""Queries of tags: names to ids, the hierarchy (recursive queries, the per-user lock), the tags
themselves, merging, and relationships between tags."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.pipeline import Statement, compile_for_driver
from diarist.models import Tag, TagRelationship


async def ensure_tags(
    session: AsyncSession, user_id: uuid.UUID, names: Sequence[str]
) -> list[uuid.UUID]:
    """Ids of the tags with these names, creating the missing ones (race-safe)."""
    if not names:
        return []
    await session.execute(
        pg_insert(Tag)
        .values([{"user_id": user_id, "name": name} for name in sorted(set(names))])
        .on_conflict_do_nothing(index_elements=[Tag.user_id, Tag.name_key])
    )
    rows = await session.execute(
        select(Tag.id).where(Tag.user_id == user_id, Tag.name_key.in_(_keys(names)))
    )
    return [row[0] for row in rows]


def _keys(names: Sequence[str]) -> list[ColumnElement[str]]:
    """Names as the database folds them (its lower(), which the unique key uses)."""
    return [func.lower(literal(name, Text())) for name in names]


async def tag_groups_by_names(
    session: AsyncSession, user_id: uuid.UUID, names: Sequence[str]
) -> list[list[uuid.UUID]]:
    """Each named tag that exists with every tag below it: one recursive query for all names."""
    rows = await session.execute(
        text(
            """
            WITH RECURSIVE tree(root, id) AS (
                SELECT id, id FROM tags
                WHERE user_id = :user
                  AND name_key IN (SELECT lower(n) FROM unnest(CAST(:names AS text[])) AS n)
                UNION
                SELECT tree.root, t.id FROM tags t JOIN tree ON t.parent_id = tree.id
                WHERE t.user_id = :user
            )
            SELECT array_agg(id) FROM tree GROUP BY root
            """
        ),
        {"names": list(names), "user": user_id},
    )
    return [list(row[0]) for row in rows]


async def descendants(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID
) -> list[uuid.UUID]:
    """The tag and every tag below it."""
    rows = await session.execute(
        text(
            """
            WITH RECURSIVE tree(id) AS (
                SELECT CAST(:tag AS uuid)
                UNION
                SELECT t.id FROM tags t JOIN tree ON t.parent_id = tree.id
                WHERE t.user_id = :user
            )
            SELECT id FROM tree
            """
        ),
        {"tag": tag_id, "user": user_id},
    )
    return [row[0] for row in rows]


async def ancestors(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID
) -> list[uuid.UUID]:
    """The tag and every tag above it."""
    rows = await session.execute(
        text(
            """
            WITH RECURSIVE up(id, parent_id) AS (
                SELECT id, parent_id FROM tags WHERE id = :tag AND user_id = :user
                UNION
                SELECT t.id, t.parent_id FROM tags t JOIN up ON t.id = up.parent_id
            )
            SELECT id FROM up
            """
        ),
        {"tag": tag_id, "user": user_id},
    )
    return [row[0] for row in rows]


async def lock_tag_tree(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise hierarchy changes of one user, so two moves cannot close a cycle together."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"tags:{user_id}"},
    )


async def get_tag(session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID) -> Tag | None:
    """One of the user's tags."""
    query = select(Tag).where(Tag.user_id == user_id, Tag.id == tag_id)
    return (await session.scalars(query.execution_options(populate_existing=True))).first()


async def list_tags(
    session: AsyncSession, user_id: uuid.UUID, *, query: str | None, limit: int
) -> list[Tag]:
    """All tags by name, or those resembling `query` (trigram similarity, then prefix)."""
    statement = select(Tag).where(Tag.user_id == user_id)
    if query:
        similarity = func.similarity(Tag.name_key, query.lower())
        statement = statement.where(
            or_(Tag.name_key.startswith(query.lower(), autoescape=True), similarity > 0.2)
        ).order_by(similarity.desc(), Tag.name_key)
    else:
        statement = statement.order_by(Tag.name_key)
    return list((await session.scalars(statement.limit(limit))).all())


# The columns of a tag the API shows, by their attribute names.
TAG_COLUMNS = (
    "id", "name", "color", "icon", "description", "parent_id", "auto_apply", "usage_count",
    "created_at", "updated_at",
)  # fmt: skip


@functools.cache
def _tag_list_sql(searching: bool) -> tuple[str, dict[str, Any]]:
    """`list_tags` as driver SQL, compiled once per shape; the user is the transaction's
    tenant. A prefix is `^@` (starts_with), which needs no LIKE escaping of the query."""
    statement = select(*(getattr(Tag, name).label(name) for name in TAG_COLUMNS)).where(
        Tag.user_id == func.diarist_current_user_id()
    )
    if searching:
        key = bindparam("key", type_=Text)
        similarity = func.similarity(Tag.name_key, key)
        statement = statement.where(or_(Tag.name_key.op("^@")(key), similarity > 0.2)).order_by(
            similarity.desc(), Tag.name_key
        )
    else:
        statement = statement.order_by(Tag.name_key)
    return compile_for_driver(statement.limit(bindparam("limit", type_=Integer)))


def tag_list_statement(*, query: str | None, limit: int) -> Statement:
    """`list_tags` for a hot read that checks the token in the same round trip (rows of
    `TAG_COLUMNS`)."""
    sql, constants = _tag_list_sql(bool(query))
    params = {**constants, "limit": limit}
    if query:
        params["key"] = query.lower()
    return Statement(sql, params)


async def insert_tag(session: AsyncSession, values: dict[str, Any]) -> Tag:
    """Insert a tag and return it."""
    return (await session.scalars(pg_insert(Tag).values(**values).returning(Tag))).one()


async def update_tag(session: AsyncSession, tag_id: uuid.UUID, values: dict[str, Any]) -> Tag:
    """Set `values` on a tag the caller has read (by id alone) and return it as it is now."""
    statement = update(Tag).where(Tag.id == tag_id).values(**values).returning(Tag)
    return (await session.scalars(statement.execution_options(populate_existing=True))).one()


async def delete_tag(session: AsyncSession, tag_id: uuid.UUID) -> None:
    """Delete a tag the caller has read (by id alone); its children become roots."""
    await session.execute(delete(Tag).where(Tag.id == tag_id))


async def move_tag_links(
    session: AsyncSession, user_id: uuid.UUID, source: uuid.UUID, target: uuid.UUID
) -> None:
    """Give `target` every entry, child and relationship of `source` (before it is deleted)."""
    moved = {"source": source, "target": target, "user": user_id}
    await session.execute(
        text(
            "INSERT INTO entry_tags (user_id, entry_id, tag_id) "
            "SELECT user_id, entry_id, :target FROM entry_tags WHERE tag_id = :source "
            "ORDER BY entry_id ON CONFLICT DO NOTHING"
        ),
        moved,
    )
    await session.execute(
        update(Tag)
        .where(Tag.user_id == user_id, Tag.parent_id == source, Tag.id != target)
        .values(parent_id=target)
    )
    # Relationships are copied onto the target (links to the target itself are dropped);
    # the source's own go with it when it is deleted.
    await session.execute(
        text(
            "INSERT INTO tag_relationships (user_id, tag_id, related_tag_id, kind, strength) "
            "SELECT user_id, "
            "  CASE WHEN tag_id = :source THEN :target ELSE tag_id END, "
            "  CASE WHEN related_tag_id = :source THEN :target ELSE related_tag_id END, "
            "  kind, strength "
            "FROM tag_relationships "
            "WHERE user_id = :user AND :source IN (tag_id, related_tag_id) "
            "  AND :target NOT IN (tag_id, related_tag_id) "
            "ON CONFLICT DO NOTHING"
        ),
        moved,
    )


async def insert_relationship(
    session: AsyncSession, values: dict[str, Any]
) -> TagRelationship | None:
    """Insert a relationship; None when the same link of the same kind exists already."""
    statement = (
        pg_insert(TagRelationship)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[
                TagRelationship.tag_id,
                TagRelationship.related_tag_id,
                TagRelationship.kind,
            ]
        )
        .returning(TagRelationship)
    )
    return (await session.scalars(statement)).first()


async def list_relationships(session: AsyncSession, tag_id: uuid.UUID) -> list[TagRelationship]:
    """The tag's relationships, from either end."""
    query = (
        select(TagRelationship)
        .where(or_(TagRelationship.tag_id == tag_id, TagRelationship.related_tag_id == tag_id))
        .order_by(TagRelationship.id)
    )
    return list((await session.scalars(query)).all())


async def delete_relationship(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, relationship_id: uuid.UUID
) -> bool:
    """Delete a relationship of `tag_id` (from either end)."""
    result = await session.execute(
        delete(TagRelationship).where(
            TagRelationship.user_id == user_id,
            TagRelationship.id == relationship_id,
            or_(TagRelationship.tag_id == tag_id, TagRelationship.related_tag_id == tag_id),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
