"""Async engines and the unit of work, with the tenant set per transaction for RLS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from diarist.config import DatabaseSettings, Settings
from diarist.db.provision import DatabaseUrls
from diarist.errors import DiaristError
from diarist.kit.middleware import current_request_id

# The key of `Session.info` that holds the acting user's id; `_set_tenant` reads it.
TENANT_KEY = "user_id"
# With the request's id, for the audit trail (one statement: no extra round trip).
_SET_TENANT = text(
    "SELECT set_config('diarist.user_id', :user_id, true),"
    " set_config('diarist.request_id', :request_id, true)"
)


class TenantSession(Session):
    """A session that scopes each transaction to `info['user_id']` (transaction-local setting)."""


@event.listens_for(TenantSession, "after_begin")
def _set_tenant(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    # Transaction-local, so it cannot leak to the next user of a pooled connection.
    user_id = session.info.get(TENANT_KEY)
    if user_id is not None:
        connection.execute(_SET_TENANT, _tenant(user_id))


async def act_as(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Scope the session's current and later transactions to `user_id`."""
    session.info[TENANT_KEY] = user_id
    await session.execute(_SET_TENANT, _tenant(user_id))


def _tenant(user_id: uuid.UUID) -> dict[str, str]:
    return {"user_id": str(user_id), "request_id": current_request_id()}


def normalize_url(raw: str) -> URL:
    """Accept `postgresql://`, `postgres://` or `postgresql+psycopg://`; use the psycopg driver."""
    url = make_url(raw)
    if url.drivername in {"postgresql", "postgres", "postgresql+psycopg"}:
        return url.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database URL scheme {url.drivername!r}: use postgresql://")


def resolve_urls(settings: Settings) -> DatabaseUrls:
    """The three role URLs from settings (external mode, or as handed down by `serve`)."""
    if settings.database_url is None:
        raise RuntimeError("DIARIST_DATABASE_URL is unset and the embedded server is not running")
    app = normalize_url(settings.database_url.get_secret_value())
    owner = settings.db.owner_url
    system = settings.db.system_url
    return DatabaseUrls(
        app=app,
        owner=normalize_url(owner.get_secret_value()) if owner else app,
        system=normalize_url(system.get_secret_value()) if system else app,
    )


@dataclass(frozen=True)
class PoolPlan:
    """Connections of one process's pool, derived from the deployment-wide totals."""

    size: int
    overflow: int


def plan_pool(settings: DatabaseSettings, processes: int) -> PoolPlan:
    """Split `pool_total` (steady) and `pool_max_total` (under load) evenly among processes."""
    processes = max(1, processes)
    size = max(1, settings.pool_total // processes)
    peak = max(size, settings.pool_max_total // processes)
    return PoolPlan(size=size, overflow=peak - size)


def server_max_connections(settings: DatabaseSettings) -> int:
    """What the embedded server must allow: every pool at its peak plus the reserve."""
    return max(100, settings.pool_max_total + settings.reserved_connections)


def create_engine(
    url: URL, settings: DatabaseSettings, plan: PoolPlan, *, application_name: str
) -> AsyncEngine:
    connect_args: dict[str, Any] = {
        "application_name": application_name,
        # HNSW scans under a user filter read on until they have enough rows (pgvector 0.8).
        "options": f"-c statement_timeout={settings.statement_timeout_ms} "
        "-c hnsw.iterative_scan=relaxed_order -c hnsw.ef_search=100 "
        "-c hnsw.max_scan_tuples=100000",
    }
    if settings.disable_prepared_statements:
        connect_args["prepare_threshold"] = None
    return create_async_engine(
        url,
        pool_size=plan.size,
        max_overflow=plan.overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_recycle=3600,
        # Statement parameters are diary text, hashes, emails: never in errors or logs.
        hide_parameters=True,
        connect_args=connect_args,
    )


class Database:
    """One engine and its session factory, owned by a process (API worker, job worker, CLI)."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        *,
        one_connection: bool = False,
    ) -> None:
        self.engine = engine
        # True when every unit of work is a savepoint on one connection (the tests' outer
        # transaction): units of work must then run one at a time, never side by side.
        self.one_connection = one_connection
        self.sessionmaker = sessionmaker or async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=TenantSession
        )

    @asynccontextmanager
    async def unit_of_work(self, user_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits at the end of the block and rolls back on error."""
        async with self.sessionmaker() as session:
            if user_id is not None:
                session.info[TENANT_KEY] = user_id
            try:
                yield session
                await session.commit()
            except DiaristError as exc:
                await (session.commit() if exc.keeps_writes else session.rollback())
                raise
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
