"""An attachment's bytes as HTTP serves them (RFC 9110): one byte range, entity tags and the
conditions on them, and the headers that keep a served file from running as a page."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.attachments import service
from diarist.attachments.errors import AttachmentNotFound
from diarist.attachments.ranges import byte_range
from diarist.attachments.store import ObjectMissing, Store

_log = structlog.get_logger("diarist.attachments")
# Served bytes never run as a page of this origin (a PDF's scripts, say).
_SANDBOX = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
_CACHE = {"content": "private, no-cache", "thumbnail": "private, max-age=86400"}


@dataclass(frozen=True)
class Conditions:
    """What the request asks of the representation: `Range`, `If-None-Match`, `If-Range`."""

    range: str | None = None
    if_none_match: str | None = None
    if_range: str | None = None


@dataclass(frozen=True)
class Served:
    status: int
    media_type: str
    headers: dict[str, str]
    body: AsyncIterator[bytes] | None  # none for a 304


async def serve_attachment(
    session: AsyncSession,
    store: Store,
    user_id: uuid.UUID,
    attachment_id: uuid.UUID,
    conditions: Conditions,
    *,
    variant: str = "content",
) -> Served:
    """The user's attachment's bytes (`variant` "content" or "thumbnail") as the request's
    conditions ask: whole, one range (206), or not modified (304). The first chunk is read
    before answering, so that a missing object is still an error answer (404)."""
    attachment, blob = await service.get_attachment(session, user_id, attachment_id)
    content = (
        service.locate_thumbnail(attachment, blob)
        if variant == "thumbnail"
        else service.locate_content(attachment, blob)
    )
    headers = {
        "ETag": content.etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": _CACHE[variant],
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _SANDBOX,
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(content.file_name, safe='')}",
    }
    if conditions.if_none_match is not None and _matches(conditions.if_none_match, content.etag):
        return Served(304, content.media_type, headers, None)
    span = None
    if conditions.if_range in (None, content.etag):  # If-Range of another version: the whole
        span = byte_range(conditions.range, content.size)
    start, stop = span or (0, content.size)
    headers["Content-Length"] = str(stop - start)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{content.size}"
    chunks = store.read(content.key, start, stop)
    try:
        first = await anext(chunks, b"")
    except ObjectMissing:
        _log.error("attachment_object_missing", key=content.key)
        raise AttachmentNotFound("The file's bytes are missing from the store.") from None

    async def body() -> AsyncIterator[bytes]:
        async with contextlib.aclosing(chunks):  # a client gone: the store's read ends too
            if first:
                yield first
            async for chunk in chunks:
                yield chunk

    return Served(206 if span else 200, content.media_type, headers, body())


def _matches(if_none_match: str, etag: str) -> bool:
    """`If-None-Match` names this representation: `*`, or its tag compared weakly
    (RFC 9110 13.1.2: `W/"x"` matches `"x"`)."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
