"""The two floors a load run measures beside diarist, served by uvicorn exactly as diarist's
API is (same workers, httptools, uvloop, no access log):

- `hello`: a bare ASGI app answering a small JSON document: what the server and the HTTP
  stack cost alone;
- `page`: a bare ASGI app that reads the same newest-20 timeline page (summary columns, an
  excerpt's worth of text, tag names) for the user named in the path, with a psycopg pool,
  and writes it as JSON: the least work that answers the timeline.

`DIARIST_FLOOR_CONNINFO` names the database (the owner role: no token, no RLS).
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from psycopg_pool import AsyncConnectionPool

_PAGE = """
SELECT e.id, e.title, e.entry_type, e.format, e.mood_rating, e.entry_date, e.timezone,
       e.visibility, e.starred, e.pinned, e.word_count, e.processing_status, e.version,
       e.created_at, e.updated_at, e.deleted_at, left(e.content, 281) AS excerpt,
       (SELECT coalesce(array_agg(t.name ORDER BY t.name_key), '{}')
        FROM entry_tags et JOIN tags t ON t.id = et.tag_id WHERE et.entry_id = e.id) AS tags
FROM entries e
WHERE e.user_id = %s AND e.deleted_at IS NULL
ORDER BY e.entry_date DESC, e.id DESC
LIMIT 21
"""
_JSON = [(b"content-type", b"application/json")]
_pool: AsyncConnectionPool | None = None


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any, start: bool) -> None:
    global _pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if start:
                _pool = AsyncConnectionPool(
                    os.environ["DIARIST_FLOOR_CONNINFO"], min_size=4, max_size=8, open=False
                )
                await _pool.open()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _pool is not None:
                await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, start=False)
        return
    await _respond(send, 200, b'{"ok":true}')


async def page(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, start=True)
        return
    assert _pool is not None
    user_id = uuid.UUID(scope["path"].rsplit("/", 1)[-1])
    async with _pool.connection() as conn:
        rows = await (await conn.execute(_PAGE, (user_id,), prepare=True)).fetchall()
    items = [dict(zip(_COLUMNS, row, strict=True)) for row in rows[:20]]
    body = json.dumps({"items": items, "next_cursor": None}, default=str).encode()
    await _respond(send, 200, body)


_COLUMNS = (
    "id", "title", "entry_type", "format", "mood_rating", "entry_date", "timezone",
    "visibility", "starred", "pinned", "word_count", "processing_status", "version",
    "created_at", "updated_at", "deleted_at", "excerpt", "tags",
)  # fmt: skip
