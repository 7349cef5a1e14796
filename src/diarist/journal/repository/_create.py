"""A new entry as driver SQL (db.pipeline): its id read with the token check, then the entry,
its tags and links, the analysis job and the entry as GET shows it, in one flush with the
commit. Each statement after the insert names the new entry by id, so when the insert finds
its idempotency key taken (and inserts nothing) they do nothing either."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import DateTime, Text, bindparam, func
from sqlalchemy.dialects.postgresql import insert as pg_insert

from diarist.db.jobs import Deferral, defer_statement
from diarist.db.pipeline import Statement, compile_for_driver
from diarist.models import Entry

# An id for the new entry, from the same generator as the column's default; read in the same
# round trip as the token check.
NEW_ENTRY_ID = Statement("SELECT uuidv7() AS id", {})

# The columns a new entry is written with (attribute names); `user_id` is the tenant, and
# `entry_date` and `search_config` are computed (`now()` when no date is given; the language's
# text configuration).
_WRITTEN = (
    "id", "title", "raw_data", "format", "content", "content_hash", "word_count", "entry_type",
    "meta", "mood_rating", "timezone", "visibility", "published_at", "starred", "pinned",
    "processing_status", "idempotency_key", "idempotency_hash",
)  # fmt: skip
_JSON = ("raw_data", "meta")

_ADD_TAGS = """
INSERT INTO tags (user_id, name)
SELECT diarist_current_user_id(), name FROM unnest(%(tag_names)s::text[]) AS name
WHERE EXISTS (SELECT 1 FROM entries WHERE id = %(entry_id)s)
ORDER BY name
ON CONFLICT (user_id, name_key) DO NOTHING
"""

_LINK_TAGS = """
INSERT INTO entry_tags (user_id, entry_id, tag_id)
SELECT e.user_id, e.id, t.id
FROM entries e JOIN tags t ON t.user_id = e.user_id
WHERE e.id = %(entry_id)s
  AND t.name_key IN (SELECT lower(name) FROM unnest(%(tag_names)s::text[]) AS name)
ORDER BY t.id
ON CONFLICT DO NOTHING
"""


@functools.cache
def _insert_sql() -> tuple[str, dict[str, Any]]:
    """The insert as driver SQL, compiled once: every written column a named parameter."""
    values: dict[str, Any] = {
        name: bindparam(name, type_=getattr(Entry, name).type) for name in _WRITTEN
    }
    values["user_id"] = func.diarist_current_user_id()
    values["entry_date"] = func.coalesce(
        bindparam("entry_date", type_=DateTime(timezone=True)), func.now()
    )
    values["search_config"] = func.diarist_search_config(bindparam("language", type_=Text))
    query = (
        pg_insert(Entry)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[Entry.user_id, Entry.idempotency_key],
            index_where=Entry.idempotency_key.is_not(None),
        )
        .returning(Entry.id)
    )
    return compile_for_driver(query)


def create_statements(
    entry_id: uuid.UUID,
    values: dict[str, Any],
    tag_names: list[str],
    analysis: Deferral,
) -> list[Statement]:
    """The writes of a new entry (`values` by attribute name, with the author's `language`
    and an `entry_date` or None) and its analysis job: rows only when the entry was
    inserted (its id, returned by the first)."""
    sql, constants = _insert_sql()
    params = {
        **constants,
        **{name: values.get(name) for name in _WRITTEN},
        "entry_date": values.get("entry_date"),
        "language": values["language"],
        "id": entry_id,
    }
    for name in _JSON:
        params[name] = Jsonb(params[name])
    statements = [Statement(sql, params)]
    if tag_names:
        tags = {"entry_id": entry_id, "tag_names": tag_names}
        statements += [Statement(_ADD_TAGS, tags), Statement(_LINK_TAGS, tags)]
    statements.append(
        defer_statement(analysis, source="FROM entries WHERE id = %(entry_id)s", entry_id=entry_id)
    )
    return statements
