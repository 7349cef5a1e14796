"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from diarist.db.session import get_database
from diarist.ops import service
from diarist.ops.schemas import Health, Readiness

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (no database access)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the packaged head; 503 otherwise."""
    heads: set[str] = request.app.state.migration_heads
    state = await service.check_readiness(get_database(request), heads)
    return JSONResponse(state.model_dump(), status_code=200 if state.status == "ready" else 503)
