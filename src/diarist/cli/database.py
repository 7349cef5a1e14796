"""Database URLs for one-shot commands: the external URLs, or the embedded cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy.engine import URL, make_url

from diarist.config import Settings
from diarist.db.embedded import SUPERUSER, embedded_cluster
from diarist.db.engine import (
    Database,
    PoolPlan,
    create_engine,
    resolve_urls,
    server_max_connections,
)
from diarist.db.provision import DatabaseUrls, embedded_urls, provision


@contextmanager
def database_urls(settings: Settings) -> Iterator[DatabaseUrls]:
    """Yield the role URLs; on the embedded cluster, started (or attached to) for the block."""
    if not settings.embedded:
        yield resolve_urls(settings)
        return
    with embedded_cluster(
        settings.data_dir, max_connections=server_max_connections(settings.db)
    ) as cluster:
        superuser = cluster.url(SUPERUSER, "postgres")
        provision(superuser, settings.db)
        yield embedded_urls(superuser, settings.db)


@contextmanager
def superuser_urls(settings: Settings) -> Iterator[tuple[URL, DatabaseUrls]]:
    """A superuser's URL and the role URLs: on the embedded cluster (started for the block),
    or from DIARIST_BACKUPS__SUPERUSER_URL for an external server."""
    if settings.embedded:
        with embedded_cluster(
            settings.data_dir, max_connections=server_max_connections(settings.db)
        ) as cluster:
            superuser = cluster.url(SUPERUSER, "postgres")
            provision(superuser, settings.db)
            yield superuser, embedded_urls(superuser, settings.db)
        return
    if settings.backups.superuser_url is None:
        raise ValueError("DIARIST_BACKUPS__SUPERUSER_URL is needed for this on an external server")
    yield make_url(settings.backups.superuser_url.get_secret_value()), resolve_urls(settings)


@asynccontextmanager
async def system_database(settings: Settings) -> AsyncIterator[Database]:
    """The system role (cross-user administration), one connection, for one command."""
    with database_urls(settings) as urls:
        async with command_database(urls.system, settings) as database:
            yield database


@asynccontextmanager
async def command_database(
    url: URL, settings: Settings, connections: int = 1
) -> AsyncIterator[Database]:
    """A role's database with a pool of `connections` (one unless the command writes on
    several at once), for one command."""
    database = Database(
        create_engine(url, settings.db, PoolPlan(connections, 0), application_name="diarist-cli")
    )
    try:
        yield database
    finally:
        await database.dispose()
