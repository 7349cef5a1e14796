"""HTTP route: my audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.audit import service
from diarist.audit.schemas import AuditPage, AuditQuery
from diarist.db.session import DbSession
from diarist.kit.responses import problem_responses

audit_router = APIRouter(prefix="/api/v1/me", tags=["audit"])


@audit_router.get("/audit", responses=problem_responses(400, 401, 422))
async def my_audit(
    session: DbSession,
    me: CurrentPrincipal,
    query: Annotated[AuditQuery, Query()],
) -> AuditPage:
    """Who changed my rows, when and how, newest first (`table`, `row` narrow it): diary text
    and secrets appear as a SHA-256 and a length, never as text."""
    items, cursor = await service.my_audit(session, me.user_id, query)
    return AuditPage(items=items, next_cursor=cursor)
