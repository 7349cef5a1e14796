"""Liveness and readiness probes."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from diarist.config import Settings
from diarist.db.session import get_database
from diarist.ops import children as children_status
from diarist.ops import service
from diarist.ops.metrics import metrics_text
from diarist.ops.schemas import Health, Readiness

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (no database access)."""
    return Health(status="ok")


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus metrics: the backups' ages (docs/backups.md)."""
    settings: Settings = request.app.state.settings
    body = await anyio.to_thread.run_sync(metrics_text, settings)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the packaged head; 503 otherwise. Under
    `diarist serve`, also each supervised process; one that is restarting makes it `degraded`
    (still 200: the API serves); `backup` says how old the newest backup is, and overdue
    scheduled backups make it `degraded` too."""
    heads: set[str] = request.app.state.migration_heads
    settings: Settings = request.app.state.settings
    children = children_status.read_status(children_status.status_path(settings.data_dir)) or []
    backup = service.backup_state(settings, datetime.now(UTC))
    state = await service.check_readiness(get_database(request), heads, children, backup)
    return JSONResponse(
        state.model_dump(mode="json"), status_code=503 if state.status == "unavailable" else 200
    )
