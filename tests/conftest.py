"""Shared fixtures: a real embedded PostgreSQL, a migrated template, per-test rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diarist.app import create_app
from diarist.config import DatabaseSettings, Environment, LogSettings, Settings
from diarist.db.embedded import DataDirLock, EmbeddedPostgres, RunningCluster
from diarist.db.engine import Database, PoolPlan, TenantSession, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.db.session import db_session
from tests.fixtures.database import build_template, clone_database, drop_database


@pytest.fixture(scope="session")
def db_settings() -> DatabaseSettings:
    return DatabaseSettings()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCluster]:
    data_dir = tmp_path_factory.mktemp("cluster")
    server = EmbeddedPostgres(data_dir, max_connections=200)
    with DataDirLock(data_dir):
        running = server.start()
        try:
            yield running
        finally:
            server.stop()


@pytest.fixture(scope="session")
def template(cluster: RunningCluster, db_settings: DatabaseSettings) -> None:
    build_template(cluster, db_settings)


@pytest.fixture(scope="session")
def test_db(cluster: RunningCluster, template: None, db_settings: DatabaseSettings) -> DatabaseUrls:
    """The shared database for tests that roll back."""
    return clone_database(cluster, db_settings, "diarist_test")


@pytest.fixture
def fresh_db(
    cluster: RunningCluster, template: None, db_settings: DatabaseSettings
) -> Iterator[DatabaseUrls]:
    """A database of one's own, for tests that must really commit (worker, migrations, roles)."""
    urls = clone_database(cluster, db_settings)
    try:
        yield urls
    finally:
        assert urls.app.database is not None
        drop_database(cluster, urls.app.database)


def make_settings(urls: DatabaseUrls, data_dir: Path, **changes: object) -> Settings:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        data_dir=data_dir,
        database_url=urls.app.render_as_string(hide_password=False),
        log=LogSettings(format="console", level="INFO"),
    )
    return settings.model_copy(update=changes)


@pytest.fixture
def settings(test_db: DatabaseUrls, tmp_path: Path) -> Settings:
    return make_settings(test_db, tmp_path)


@pytest.fixture(scope="session")
async def app_engine(
    test_db: DatabaseUrls, db_settings: DatabaseSettings
) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        test_db.app, db_settings, PoolPlan(size=5, overflow=5), application_name="diarist-test"
    )
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(app_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back after the test."""
    async with app_engine.connect() as conn:
        outer = await conn.begin()
        db = AsyncSession(
            bind=conn,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            sync_session_class=TenantSession,
        )
        try:
            yield db
        finally:
            await db.close()
            await outer.rollback()


@pytest.fixture
def app(settings: Settings, app_engine: AsyncEngine, session: AsyncSession) -> FastAPI:
    application = create_app(settings, database=Database(app_engine))

    async def override() -> AsyncIterator[AsyncSession]:
        yield session

    application.dependency_overrides[db_session] = override
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://diarist.test") as http,
    ):
        yield http
