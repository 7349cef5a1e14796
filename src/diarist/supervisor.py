"""`diarist serve`: the parent process that owns the data dir and supervises the children.

Order: lock the data dir -> start the embedded PostgreSQL (unless a URL is given) -> provision
roles -> apply migrations -> start the uvicorn workers, the query embedder and one job worker
with the database URLs in their environment -> until a signal: restart a child that dies (with
a backoff); when PostgreSQL dies, stop the children, restart it, start them again -> stop
children -> stop PostgreSQL.
No child starts PostgreSQL or runs migrations. What the supervisor sees is written to a status
file that `/readyz` reports (`diarist.ops.children`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType

import structlog
from sqlalchemy.engine import URL

from diarist.config import Settings
from diarist.db import migrate
from diarist.db.embedded import SUPERUSER, DataDirLock, EmbeddedPostgres
from diarist.db.engine import resolve_urls, server_max_connections
from diarist.db.provision import DatabaseUrls, embedded_urls, provision
from diarist.kit import processes
from diarist.logging import configure_logging
from diarist.ops import children as children_status

_log = structlog.get_logger("diarist.serve")
_CHILD_STOP_TIMEOUT_S = 20
# uvicorn's httptools protocol with diarist's request-head limits and problem+json refusals.
HTTP_PROTOCOL = "diarist.kit.http_protocol:ProblemHttpToolsProtocol"


@dataclass(frozen=True)
class ServeOptions:
    workers: int
    with_worker: bool


def _child_env(settings: Settings, urls: DatabaseUrls, workers: int) -> dict[str, str]:
    def render(url: URL) -> str:
        return url.render_as_string(hide_password=False)

    env = dict(os.environ)
    env.update(
        DIARIST_DATABASE_URL=render(urls.app),
        DIARIST_DB__OWNER_URL=render(urls.owner),
        DIARIST_DB__SYSTEM_URL=render(urls.system),
        DIARIST_DATA_DIR=str(settings.data_dir),
        DIARIST_SECRET_KEY=settings.checked_secret_key().get_secret_value(),
        DIARIST_WORKERS=str(workers),
    )
    return env


def api_command(settings: Settings, options: ServeOptions) -> list[str]:
    """The uvicorn command line of the API workers."""
    return [
        sys.executable, "-m", "uvicorn", "diarist.app:create_app", "--factory",
        "--host", settings.host, "--port", str(settings.port),
        "--workers", str(options.workers), "--http", HTTP_PROTOCOL,
        "--no-access-log", "--no-server-header", "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip


@dataclass
class _Child:
    """A supervised process: restarted after it dies, with a backoff that doubles from
    _BACKOFF_FIRST_S to _BACKOFF_MAX_S and starts again once it has stayed up _STEADY_S."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    backoff_s: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    last_exit_code: int | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)  # noqa: S603
        self.started = time.monotonic()
        self.since = datetime.now(UTC)
        self.restart_at = None

    def state(self) -> children_status.ChildState:
        return children_status.ChildState(
            name=self.name,
            state="restarting" if self.restart_at is not None else "running",
            pid=None if self.restart_at is not None or self.process is None else self.process.pid,
            restarts=self.restarts,
            last_exit_code=self.last_exit_code,
            since=self.since,
        )


_BACKOFF_FIRST_S = 1.0
_BACKOFF_MAX_S = 30.0
_STEADY_S = 60.0


def _watch(children: list[_Child]) -> bool:
    """Restart what died (after its backoff), logging each exit and restart; True when a
    child's state changed."""
    now = time.monotonic()
    changed = False
    for child in children:
        assert child.process is not None  # started by _start_children
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.start()
                child.restarts += 1
                changed = True
                _log.warning("child_restarted", name=child.name, pid=child.process.pid,
                             restarts=child.restarts)  # fmt: skip
            continue
        if child.process.poll() is None:
            continue
        steady = now - child.started >= _STEADY_S
        child.backoff_s = (
            _BACKOFF_FIRST_S
            if steady or not child.backoff_s
            else min(child.backoff_s * 2, _BACKOFF_MAX_S)
        )
        child.restart_at = now + child.backoff_s
        child.last_exit_code = child.process.returncode
        child.since = datetime.now(UTC)
        changed = True
        _log.error("child_exited", name=child.name, pid=child.process.pid,
                   returncode=child.process.returncode, restart_in_s=child.backoff_s)  # fmt: skip
    return changed


def _start_children(settings: Settings, options: ServeOptions, env: dict[str, str]) -> list[_Child]:
    children = [_Child("api", api_command(settings, options), env)]
    if settings.analysis.embedder_url is None:  # else one runs elsewhere
        # The embedder needs no database and no secret: it gets neither.
        secrets = ("DIARIST_DATABASE_URL", "DIARIST_DB__OWNER_URL", "DIARIST_DB__SYSTEM_URL",
                   "DIARIST_SECRET_KEY")  # fmt: skip
        bare = {key: value for key, value in env.items() if key not in secrets}
        children.append(_Child("embedder", [sys.executable, "-m", "diarist", "embedder"], bare))
    if options.with_worker:
        children.append(_Child("worker", [sys.executable, "-m", "diarist", "worker"], env))
    for child in children:
        child.start()
    return children


def _stop_children(supervised: list[_Child]) -> None:
    children = [child.process for child in supervised if child.process is not None]
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=_CHILD_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _log.warning("child_kill", pid=child.pid)
            child.kill()
            child.wait()


class _Postgres:
    """The embedded cluster as the supervisor runs it: started, watched, restarted once it dies."""

    def __init__(self, settings: Settings) -> None:
        self.server = EmbeddedPostgres(
            settings.data_dir, max_connections=server_max_connections(settings.db)
        )
        self.pid = 0
        self.restarts = 0
        self.since = datetime.now(UTC)

    def start(self) -> URL:
        """Start the cluster; the superuser's URL."""
        cluster = self.server.start()
        self.pid, self.since = cluster.pid, datetime.now(UTC)
        return cluster.url(SUPERUSER, "postgres")

    def died(self) -> bool:
        return not processes.alive(self.pid)

    def restart(self) -> None:
        """Start again after a crash (PostgreSQL replays its WAL); a few tries, because the dead
        postmaster's backends may hold its shared memory for a moment."""
        self.restarts += 1
        delay = _BACKOFF_FIRST_S
        for attempt in range(1, _POSTGRES_START_TRIES + 1):
            try:
                self.start()
            except (subprocess.SubprocessError, RuntimeError) as exc:
                _log.error("embedded_postgres_restart_failed", attempt=attempt,
                           error=type(exc).__name__)  # fmt: skip
                if attempt == _POSTGRES_START_TRIES:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX_S)
            else:
                _log.warning("embedded_postgres_restarted", pid=self.pid, restarts=self.restarts)
                return

    def state(self) -> children_status.ChildState:
        return children_status.ChildState(
            name="postgres", state="running", pid=self.pid, restarts=self.restarts,
            last_exit_code=None, since=self.since,
        )  # fmt: skip


_POSTGRES_START_TRIES = 5


def serve(settings: Settings, options: ServeOptions) -> int:
    """Run the whole service in the foreground; returns the process exit code."""
    configure_logging(settings.log)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("serve_stopping", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    lock = DataDirLock(settings.data_dir)
    lock.acquire()  # raises DataDirLocked, reported by the CLI
    postgres = _Postgres(settings) if settings.embedded else None
    children: list[_Child] = []
    status_file = children_status.status_path(settings.data_dir)

    def report() -> None:
        states = [child.state() for child in children]
        if postgres is not None:
            states.insert(0, postgres.state())
        children_status.write_status(status_file, states)

    try:
        if postgres is not None:
            superuser = postgres.start()
            provision(superuser, settings.db)
            urls = embedded_urls(superuser, settings.db)
        else:
            urls = resolve_urls(settings)
        if settings.auto_migrate:
            migrate.upgrade(urls.owner, settings=settings)
            _log.info("migrations_applied", heads=sorted(migrate.head_revisions()))
        if stop.is_set():
            return 0
        env = _child_env(settings, urls, options.workers)
        children = _start_children(settings, options, env)
        report()
        _log.info("serve_started", host=settings.host, port=settings.port, workers=options.workers)
        while not stop.wait(0.5):
            if postgres is not None and postgres.died():
                # Nothing works without the database: stop the rest, restart it, start them again.
                _log.error("embedded_postgres_died", pid=postgres.pid)
                _stop_children(children)
                try:
                    postgres.restart()
                except (subprocess.SubprocessError, RuntimeError):
                    _log.error("serve_stopped", exit_code=1, reason="postgres_restart_failed")
                    return 1
                children = _start_children(settings, options, env)
                report()
            elif _watch(children):
                report()
    finally:
        _stop_children(children)
        children_status.remove_status(status_file)
        if postgres is not None:
            postgres.server.stop()
        lock.release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _log.info("serve_stopped", exit_code=0)
    return 0
