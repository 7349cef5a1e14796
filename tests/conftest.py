"""Shared fixtures: a real embedded PostgreSQL, a migrated template, per-test rollback."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from diarist.accounts.mailer import SmtpMailer
from diarist.accounts.secrets import Keyring
from diarist.accounts.service import AccountsContext
from diarist.app import create_app
from diarist.config import (
    DatabaseSettings,
    Environment,
    LogSettings,
    MailSettings,
    Settings,
    get_settings,
)
from diarist.db.embedded import DataDirLock, EmbeddedPostgres, RunningCluster
from diarist.db.engine import TENANT_KEY, Database, PoolPlan, TenantSession, create_engine
from diarist.db.provision import DatabaseUrls
from tests.fixtures.database import build_template, clone_database, drop_database
from tests.fixtures.embedder import embedder_server


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
        _env_file=None,
        environment=Environment.TEST,
        data_dir=data_dir,
        database_url=urls.app.render_as_string(hide_password=False),
        log=LogSettings(format="console", level="INFO"),
        secret_key="test-secret-key-with-enough-entropy-0123456789",
    )
    settings.db = settings.db.model_copy(
        update={
            "owner_url": SecretStr(urls.owner.render_as_string(hide_password=False)),
            "system_url": SecretStr(urls.system.render_as_string(hide_password=False)),
        }
    )
    return settings.model_copy(update=changes)


@pytest.fixture(scope="session")
def embedder_url() -> Iterator[str]:
    """The real query embedder, one per test session."""
    with embedder_server() as url:
        yield url


@pytest.fixture
def settings(test_db: DatabaseUrls, tmp_path: Path, embedder_url: str) -> Settings:
    settings = make_settings(test_db, tmp_path)
    settings.analysis = settings.analysis.model_copy(update={"embedder_url": embedder_url})
    return settings


@pytest.fixture(scope="session")
async def app_engine(
    test_db: DatabaseUrls, db_settings: DatabaseSettings
) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(
        test_db.app, db_settings, PoolPlan(size=5, overflow=5), application_name="diarist-test"
    )
    yield engine
    await engine.dispose()


class TestSession(TenantSession):
    """Test sessions share one outer transaction, so a tenant set by one request would outlive
    it; reset it at every begin when the session has no user, as a new transaction would."""


@event.listens_for(TestSession, "after_begin")
def _reset_tenant(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    if session.info.get(TENANT_KEY) is None:
        connection.execute(text("SELECT set_config('diarist.user_id', '', true)"))


@pytest.fixture
async def database(app_engine: AsyncEngine) -> AsyncIterator[Database]:
    """The app's database inside one outer transaction that is rolled back after the test:
    each unit of work is a savepoint, so commit and rollback behave as in production."""
    async with app_engine.connect() as conn:
        outer = await conn.begin()
        factory = async_sessionmaker(
            bind=conn,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            sync_session_class=TestSession,
        )
        try:
            yield Database(app_engine, factory, one_connection=True)
        finally:
            await outer.rollback()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.sessionmaker() as db:
        yield db


@pytest.fixture
def cli_env(fresh_db: DatabaseUrls, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a `diarist` command against a database of its own."""
    env = {
        "DIARIST_DATABASE_URL": fresh_db.app.render_as_string(hide_password=False),
        "DIARIST_DB__SYSTEM_URL": fresh_db.system.render_as_string(hide_password=False),
        "DIARIST_DB__OWNER_URL": fresh_db.owner.render_as_string(hide_password=False),
        "DIARIST_SECRET_KEY": "test-secret-key-with-enough-entropy-0123456789",
        "DIARIST_DATA_DIR": str(tmp_path),
        "DIARIST_LOG__FORMAT": "console",
    }
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    def codes(self, to: str) -> list[str]:
        """The codes mailed to `to`, oldest first."""
        found = [
            re.search(r"\b(\d{6})\b", message.get_content())
            for message in self.messages
            if message["To"] == to
        ]
        return [match.group(1) for match in found if match]

    def last_code(self, to: str) -> str:
        codes = self.codes(to)
        assert codes, f"no code was mailed to {to}"
        return codes[-1]


class _Collect:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, _server: object, _session: object, envelope: Envelope) -> str:
        content = envelope.content or b""
        raw = content.encode() if isinstance(content, str) else content
        parsed = BytesParser(policy=default_policy).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        self.mailbox.messages.append(parsed)
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(_Collect(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[int, Mailbox]) -> Mailbox:
    smtp_server[1].messages.clear()
    return smtp_server[1]


@pytest.fixture
def accounts_context(
    settings: Settings, smtp_server: tuple[int, Mailbox], clock: FakeClock
) -> AccountsContext:
    mail = MailSettings(
        backend="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server[0], smtp_security="none"
    )
    return AccountsContext(
        settings=settings,
        keyring=Keyring(SecretStr("test-secret-key-with-enough-entropy-0123456789")),
        mailer=SmtpMailer(mail),
        clock=clock,
    )


@pytest.fixture
def app(settings: Settings, database: Database, accounts_context: AccountsContext) -> FastAPI:
    application = create_app(settings, database=database)
    application.state.accounts = accounts_context
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://diarist.test") as http,
    ):
        yield http
