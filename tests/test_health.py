"""Liveness and readiness."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx
from sqlalchemy.engine import make_url

from diarist.app import create_app
from diarist.config import DatabaseSettings
from diarist.db import migrate
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.ops import children
from diarist.ops.children import ChildState
from tests.conftest import make_settings


async def _get(
    urls: DatabaseUrls, app_url: str, tmp_path: Path, path: str, **headers: str
) -> httpx.Response:
    settings = make_settings(urls, tmp_path)
    database = Database(
        create_engine(
            make_url(app_url),
            DatabaseSettings(pool_timeout_s=2),
            PoolPlan(1, 0),
            application_name="t",
        )
    )
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            return await client.get(path, headers=headers)
    finally:
        await database.dispose()


async def test_healthz_needs_no_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_ok_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready", "database": True, "migrations": "current", "children": [],
        "backup": None,
    }  # fmt: skip


def _child(name: str, state: Literal["running", "restarting"], pid: int | None) -> ChildState:
    return ChildState(
        name=name, state=state, pid=pid, restarts=1 if state == "restarting" else 0,
        last_exit_code=-9 if state == "restarting" else None, since=datetime.now(UTC),
    )  # fmt: skip


async def test_readyz_reports_serves_children(test_db: DatabaseUrls, tmp_path: Path) -> None:
    """Under `diarist serve`: a restarting child makes the state degraded (still 200)."""
    status_file = children.status_path(tmp_path)
    app_url = test_db.app.render_as_string(False)
    children.write_status(
        status_file, [_child("api", "running", 10), _child("worker", "running", 11)]
    )
    ready = await _get(test_db, app_url, tmp_path, "/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert [child["name"] for child in ready.json()["children"]] == ["api", "worker"]

    children.write_status(
        status_file, [_child("api", "running", 10), _child("worker", "restarting", None)]
    )
    degraded = await _get(test_db, app_url, tmp_path, "/readyz")
    assert degraded.status_code == 200
    assert degraded.json()["status"] == "degraded"
    worker = degraded.json()["children"][1]
    assert (worker["state"], worker["pid"], worker["last_exit_code"]) == ("restarting", None, -9)


async def test_readyz_ignores_a_dead_supervisors_status(
    test_db: DatabaseUrls, tmp_path: Path
) -> None:
    """A serve killed with -9 leaves its file behind; the file names a pid that no longer runs."""
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    status = children.Supervision(
        supervisor_pid=gone.pid, children=[_child("worker", "restarting", None)]
    )
    status_file = children.status_path(tmp_path)
    status_file.parent.mkdir(parents=True)
    status_file.write_text(status.model_dump_json())
    response = await _get(test_db, test_db.app.render_as_string(False), tmp_path, "/readyz")
    assert (response.status_code, response.json()["status"]) == (200, "ready")
    assert response.json()["children"] == []
    status_file.write_text("{half a fi")
    response = await _get(test_db, test_db.app.render_as_string(False), tmp_path, "/readyz")
    assert response.json()["children"] == []


async def test_readyz_503_when_migrations_pending(fresh_db: DatabaseUrls, tmp_path: Path) -> None:
    migrate.downgrade(fresh_db.owner, "base")
    response = await _get(fresh_db, fresh_db.app.render_as_string(False), tmp_path, "/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"


async def test_readyz_503_when_database_unreachable(test_db: DatabaseUrls, tmp_path: Path) -> None:
    unreachable = test_db.app.set(query={"host": str(tmp_path / "no-socket-here")})
    response = await _get(test_db, unreachable.render_as_string(False), tmp_path, "/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable", "database": False, "migrations": "unknown", "children": [],
        "backup": None,
    }  # fmt: skip


async def test_an_unreachable_database_is_a_503_on_every_route(
    test_db: DatabaseUrls, tmp_path: Path
) -> None:
    unreachable = test_db.app.set(query={"host": str(tmp_path / "no-socket-here")})
    url = unreachable.render_as_string(False)
    for path in ("/api/v1/entries", "/api/v1/search?q=lake"):  # ORM session; one-trip hot read
        response = await _get(test_db, url, tmp_path, path, authorization="Bearer dss_" + "x" * 43)
        assert response.status_code == 503, path
        assert response.headers["retry-after"] == "5"
        assert response.json()["code"] == "database_unavailable"
