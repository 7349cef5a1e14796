"""The tags page: the tree of my tags with their use, colours and descriptions; create,
rename, recolour, move, merge and delete, through the journal's tag service and the API's
own models."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.session import DbSession
from diarist.errors import DiaristError
from diarist.journal import tags as journal_tags
from diarist.journal.schemas import TagCreate, TagMerge, TagUpdate
from diarist.models import Tag
from diarist.web.render import page
from diarist.web.viewer import SignedIn, Viewer, checked_form, field, pages_router, refusal

tags_pages = pages_router()
MAX_TAGS = 1000
DEEPEST = 6  # indentation stops here (a deeper tree still shows, flush with its level 6)


def tree(tags: list[Tag]) -> list[tuple[Tag, int]]:
    """The tags depth first, each with its depth; children by name."""
    known = {tag.id for tag in tags}
    children: dict[uuid.UUID | None, list[Tag]] = defaultdict(list)
    for tag in tags:
        children[tag.parent_id if tag.parent_id in known else None].append(tag)
    ordered: list[tuple[Tag, int]] = []

    def walk(parent: uuid.UUID | None, depth: int) -> None:
        for tag in sorted(children[parent], key=lambda t: t.name.lower()):
            ordered.append((tag, min(depth, DEEPEST)))
            walk(tag.id, depth + 1)

    walk(None, 0)
    return ordered


async def _tags_page(
    request: Request, session: AsyncSession, me: Viewer, errors: list[str], status: int = 200
) -> Response:
    tags = await journal_tags.list_tags(session, me.principal.user_id, query=None, limit=MAX_TAGS)
    context: dict[str, Any] = {"me": me, "csrf": me.csrf, "tree": tree(tags), "errors": errors}
    return page(request, "tags.html", context, status)


@tags_pages.get("/tags")
async def tags(request: Request, session: DbSession, me: SignedIn) -> Response:
    return await _tags_page(request, session, me, [])


def _fields(form: dict[str, str]) -> dict[str, Any]:
    """The API's tag fields from the page's form (an empty parent makes a root)."""
    parent = field(form, "parent_id")
    return {
        "name": field(form, "name"),
        "color": field(form, "color") or None,
        "description": field(form, "description") or None,
        "parent_id": parent or None,
        "auto_apply": form.get("auto_apply") == "1",
    }


async def _changed(request: Request, session: AsyncSession, me: Viewer, change: Any) -> Response:
    try:
        await change()
    except (ValidationError, DiaristError) as exc:
        errors, status = await refusal(session, exc)
        return await _tags_page(request, session, me, errors, status)
    return RedirectResponse("/tags", status_code=303)


@tags_pages.post("/tags")
async def create(request: Request, session: DbSession, me: SignedIn) -> Response:
    form = await checked_form(request, me.csrf)

    async def change() -> None:
        data = TagCreate.model_validate(_fields(form))
        await journal_tags.create_tag(session, me.principal.user_id, data)

    return await _changed(request, session, me, change)


@tags_pages.post("/tags/{tag_id}")
async def update(request: Request, session: DbSession, me: SignedIn, tag_id: uuid.UUID) -> Response:
    form = await checked_form(request, me.csrf)

    async def change() -> None:
        data = TagUpdate.model_validate(_fields(form))
        await journal_tags.update_tag(session, me.principal.user_id, tag_id, data)

    return await _changed(request, session, me, change)


@tags_pages.post("/tags/{tag_id}/merge")
async def merge(request: Request, session: DbSession, me: SignedIn, tag_id: uuid.UUID) -> Response:
    form = await checked_form(request, me.csrf)

    async def change() -> None:
        into = TagMerge.model_validate({"into": field(form, "into")}).into
        await journal_tags.merge_tag(session, me.principal.user_id, tag_id, into)

    return await _changed(request, session, me, change)


@tags_pages.post("/tags/{tag_id}/delete")
async def delete(request: Request, session: DbSession, me: SignedIn, tag_id: uuid.UUID) -> Response:
    await checked_form(request, me.csrf)

    async def change() -> None:
        await journal_tags.delete_tag(session, me.principal.user_id, tag_id)

    return await _changed(request, session, me, change)
