"""HTTP routes: imports of another tool's journal, uploaded and run as a job."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.config import AppSettings
from diarist.db.session import DbSession
from diarist.imports import service
from diarist.imports.schemas import ImportFormat, ImportOut
from diarist.kit.responses import problem_responses

imports_router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


@imports_router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportOut,
    responses=problem_responses(400, 401, 403, 413, 422, 429),
)
async def start_import(
    source_format: Annotated[ImportFormat, Form(alias="format")],
    session: DbSession,
    me: CurrentPrincipal,
    settings: AppSettings,
    response: Response,
    file: Annotated[
        UploadFile | None,
        File(description="The export: a JSON or text file, or a zip (every format but memos)."),
    ] = None,
    url: Annotated[
        str | None, Form(max_length=2000, description="memos: the server's address.")
    ] = None,
    token: Annotated[
        str | None, Form(max_length=4000, description="memos: an access token of the server.")
    ] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> ImportOut:
    """Upload an export (multipart, streamed to disk), or name a Memos server (`url`,
    `token`), and import it in the background; follow its progress at `Location`. Formats
    and what their fields become: docs/imports.md."""
    row = await service.start_import_request(
        session, me.user_id, source_format, file.file if file else None,
        file.filename if file else None, url=url, token=token,
        dry_run=dry_run, data_dir=settings.data_dir, max_waiting=settings.imports.max_waiting,
        allow_private=settings.imports.memos_allow_private,
    )  # fmt: skip
    response.headers["Location"] = f"/api/v1/imports/{row.id}"
    return ImportOut.model_validate(row)


@imports_router.get("", response_model=list[ImportOut], responses=problem_responses(401, 422))
async def list_imports(
    session: DbSession,
    me: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ImportOut]:
    """My imports, newest first."""
    rows = await service.list_imports(session, me.user_id, limit)
    return [ImportOut.model_validate(row) for row in rows]


@imports_router.get(
    "/{import_id}", response_model=ImportOut, responses=problem_responses(401, 404, 422)
)
async def get_import(import_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> ImportOut:
    """One import: its progress while it runs, its report once done."""
    return ImportOut.model_validate(await service.get_import(session, me.user_id, import_id))
