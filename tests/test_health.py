"""Liveness and readiness."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from diarist.app import create_app
from diarist.config import DatabaseSettings
from diarist.db import migrate
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from tests.conftest import make_settings


async def _get(urls: DatabaseUrls, app_url: str, tmp_path: Path, path: str) -> httpx.Response:
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
            return await client.get(path)
    finally:
        await database.dispose()


async def test_healthz_needs_no_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_ok_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": True, "migrations": "current"}


async def test_readyz_503_when_migrations_pending(fresh_db: DatabaseUrls, tmp_path: Path) -> None:
    migrate.downgrade(fresh_db.owner, "base")
    response = await _get(fresh_db, fresh_db.app.render_as_string(False), tmp_path, "/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"


async def test_readyz_503_when_database_unreachable(test_db: DatabaseUrls, tmp_path: Path) -> None:
    unreachable = test_db.app.set(query={"host": str(tmp_path / "no-socket-here")})
    response = await _get(test_db, unreachable.render_as_string(False), tmp_path, "/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": False, "migrations": "unknown"}
