"""HTTP routes: files on entries, their bytes (in ranges) and thumbnails, and the quota."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

import structlog
from anyio import to_thread
from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.attachments import service
from diarist.attachments.errors import AttachmentNotFound
from diarist.attachments.ranges import byte_range
from diarist.attachments.schemas import AttachmentOut, AttachmentPatch, UsageOut
from diarist.attachments.store import ObjectMissing, Store
from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.kit.responses import json_response, problem_responses

_log = structlog.get_logger("diarist.attachments")
attachments_router = APIRouter(prefix="/api/v1/attachments", tags=["attachments"])


def attachment_store(request: Request) -> Store:
    store: Store = request.app.state.attachment_store
    return store


AttachmentStore = Annotated[Store, Depends(attachment_store)]
_ONE = problem_responses(401, 404, 422)
_BYTES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The bytes."},
    206: {"description": "The range asked for (`Content-Range`)."},
    304: {"description": "Not modified since the `ETag` sent in `If-None-Match`."},
    **problem_responses(401, 404, 416, 422),
}


@attachments_router.post(
    "",
    status_code=201,
    response_model=AttachmentOut,
    responses={
        200: {"description": "The entry has these bytes already: that attachment."},
        **problem_responses(400, 401, 403, 404, 413, 415, 422),
    },
)
async def upload_attachment(
    file: Annotated[UploadFile, File(description="A photo, audio, video or PDF file.")],
    entry_id: Annotated[uuid.UUID, Form()],
    session: DbSession,
    me: CurrentPrincipal,
    settings: AppSettings,
    store: AttachmentStore,
    keep_location: Annotated[bool, Form()] = False,
) -> Response:
    """Attach a file to an entry (multipart). Its type is read from its bytes; the same bytes
    are stored once per user. Limits: `max_file_bytes` per file, `quota_bytes` per user."""
    limits = settings.attachments
    folder = service.staging_dir(settings.data_dir)
    staged = await to_thread.run_sync(service.stage, file.file, folder, limits.max_file_bytes)
    try:
        attachment, blob, created = await service.attach(
            session, store, limits, me.user_id, entry_id, staged, file.filename,
            keep_location=keep_location,
        )  # fmt: skip
    finally:
        staged.path.unlink(missing_ok=True)
    out = AttachmentOut.of(attachment, blob)
    return json_response(out, 201 if created else 200, headers={"Location": out.content_url[:-8]})


@attachments_router.get("", response_model=list[AttachmentOut], responses=_ONE)
async def list_attachments(
    session: DbSession,
    me: CurrentPrincipal,
    entry_id: Annotated[uuid.UUID | None, Query(description="Only this entry's.")] = None,
) -> list[AttachmentOut]:
    """My attachments (an entry's, with `entry_id`), by entry, oldest first."""
    rows = await service.list_attachments(session, me.user_id, entry_id)
    return [AttachmentOut.of(a, b) for a, b in rows]


@attachments_router.get("/usage", response_model=UsageOut, responses=problem_responses(401))
async def attachment_usage(
    session: DbSession, me: CurrentPrincipal, settings: AppSettings
) -> UsageOut:
    """How much of my quota my attachments take."""
    used, files = await service.usage(session, me.user_id)
    limits = settings.attachments
    return UsageOut(
        used_bytes=used, quota_bytes=limits.quota_bytes, files=files,
        max_file_bytes=limits.max_file_bytes,
    )  # fmt: skip


@attachments_router.get("/{attachment_id}", response_model=AttachmentOut, responses=_ONE)
async def get_attachment(
    attachment_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> AttachmentOut:
    return AttachmentOut.of(*await service.get_attachment(session, me.user_id, attachment_id))


@attachments_router.patch("/{attachment_id}", response_model=AttachmentOut, responses=_ONE)
async def patch_attachment(
    attachment_id: uuid.UUID, body: AttachmentPatch, session: DbSession, me: CurrentPrincipal
) -> AttachmentOut:
    """Keep (or stop keeping) a photo's location in what is served."""
    found = await service.keep_location(session, me.user_id, attachment_id, body.keep_location)
    return AttachmentOut.of(*found)


@attachments_router.delete("/{attachment_id}", status_code=204, responses=_ONE)
async def delete_attachment(
    attachment_id: uuid.UUID, session: DbSession, me: CurrentPrincipal
) -> Response:
    """Remove a file from its entry (its bytes go once nothing names them)."""
    await service.detach(session, me.user_id, attachment_id)
    return Response(status_code=204)


@attachments_router.get("/{attachment_id}/content", responses=_BYTES)
async def attachment_content(
    attachment_id: uuid.UUID,
    session: DbSession,
    me: CurrentPrincipal,
    store: AttachmentStore,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_range: Annotated[str | None, Header()] = None,
) -> Response:
    """The file's bytes (`Range` for a part of audio or video). A photo with a location is
    served without it unless the attachment keeps it."""
    attachment, blob = await service.get_attachment(session, me.user_id, attachment_id)
    content = service.content_of(attachment, blob)
    return await _serve(store, content, range_header, if_none_match, if_range, "private, no-cache")


@attachments_router.get("/{attachment_id}/thumbnail", responses=_BYTES)
async def attachment_thumbnail(
    attachment_id: uuid.UUID,
    session: DbSession,
    me: CurrentPrincipal,
    store: AttachmentStore,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_range: Annotated[str | None, Header()] = None,
) -> Response:
    """A photo's thumbnail (JPEG, without metadata)."""
    attachment, blob = await service.get_attachment(session, me.user_id, attachment_id)
    content = service.thumbnail_of(attachment, blob)
    cache = "private, max-age=86400"
    return await _serve(store, content, range_header, if_none_match, if_range, cache)


async def _serve(
    store: Store,
    content: service.Content,
    range_header: str | None,
    if_none_match: str | None,
    if_range: str | None,
    cache: str,
) -> Response:
    headers = {
        "ETag": content.etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        # Served bytes never run as a page of this origin (a PDF's scripts, say).
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'; media-src 'self'",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(content.file_name, safe='')}",
    }
    if if_none_match is not None and _matches(if_none_match, content.etag):
        return Response(status_code=304, headers=headers)
    span = None if if_range not in (None, content.etag) else byte_range(range_header, content.size)
    start, stop = span or (0, content.size)
    headers["Content-Length"] = str(stop - start)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{content.size}"
    chunks = store.read(content.key, start, stop)
    try:  # the first chunk before the headers: a missing object is still an error answer
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

    return StreamingResponse(
        body(), status_code=status, media_type=content.media_type, headers=headers
    )


def _matches(if_none_match: str, etag: str) -> bool:
    """`If-None-Match` names this representation: `*`, or its tag compared weakly
    (RFC 9110 13.1.2: `W/"x"` matches `"x"`)."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
