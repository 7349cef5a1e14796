"""The benches' embedded PostgreSQL: a throwaway one, provisioned and migrated as `diarist serve`
would do it, or the one a running `diarist serve` started."""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from diarist.accounts import service as accounts_service
from diarist.accounts.mailer import ConsoleMailer
from diarist.accounts.secrets import Keyring
from diarist.accounts.service import AccountsContext, Client
from diarist.config import DatabaseSettings, Settings
from diarist.db import migrate
from diarist.db.embedded import SUPERUSER, DataDirLock, EmbeddedPostgres, RunningCluster
from diarist.db.engine import Database
from diarist.db.provision import DatabaseUrls, embedded_urls, libpq_url, provision
from diarist.kit.clock import SystemClock

# The secret key of every bench cluster (throw-away, never served to anyone).
SECRET_KEY = SecretStr("b" * 48)


@dataclass(frozen=True)
class BenchCluster:
    data_dir: Path
    urls: DatabaseUrls
    settings: Settings


async def bench_user(database: Database, settings: Settings, email: str) -> uuid.UUID:
    """A user registered through the real service."""
    mailer = ConsoleMailer("bench", io.StringIO())
    ctx = AccountsContext(settings, Keyring(SECRET_KEY), mailer, SystemClock())
    async with database.unit_of_work() as session:
        user, _ = await accounts_service.register(
            session,
            ctx,
            email=email,
            name="Bench",
            password="bench-password-123",
            client=Client(None, None),
        )
    return user.id


@contextmanager
def migrated_cluster(max_connections: int = 100) -> Iterator[BenchCluster]:
    with tempfile.TemporaryDirectory(prefix="diarist-bench-") as tmp:
        data_dir = Path(tmp)
        server = EmbeddedPostgres(data_dir, max_connections=max_connections)
        with DataDirLock(data_dir):
            cluster = server.start()
            try:
                db = DatabaseSettings()
                superuser = cluster.url(SUPERUSER, "postgres")
                provision(superuser, db)
                urls = embedded_urls(superuser, db)
                migrate.upgrade(urls.owner)
                settings = Settings(
                    _env_file=None,
                    data_dir=data_dir,
                    database_url=SecretStr(urls.app.render_as_string(hide_password=False)),
                    secret_key=SECRET_KEY,
                )
                settings.db = settings.db.model_copy(
                    update={
                        "owner_url": SecretStr(urls.owner.render_as_string(hide_password=False)),
                        "system_url": SecretStr(urls.system.render_as_string(hide_password=False)),
                    }
                )
                yield BenchCluster(data_dir, urls, settings)
            finally:
                server.stop()


def find_running_cluster(data_dir: Path) -> RunningCluster:
    """The PostgreSQL of a running `diarist serve` on `data_dir`."""
    cluster = EmbeddedPostgres(data_dir).running()
    if cluster is None:
        raise RuntimeError(f"no PostgreSQL running on {data_dir}")
    return cluster


def cluster_conninfo(data_dir: Path, role: str) -> str:
    """libpq conninfo for `role` on the embedded cluster of a running `diarist serve`."""
    cluster = find_running_cluster(data_dir)
    return libpq_url(cluster.url(role, DatabaseSettings().name))
