"""`diarist serve`: the parent process that owns the data dir and supervises the children.

Order: lock the data dir -> start the embedded PostgreSQL (unless a URL is given) -> provision
roles -> apply migrations -> start the uvicorn workers, the query embedder and one job worker
with the database URLs in their environment -> wait for a signal or a dying child -> stop
children -> stop PostgreSQL.
No child starts PostgreSQL or runs migrations.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType

import structlog
from sqlalchemy.engine import URL

from diarist.config import Settings
from diarist.db import migrate
from diarist.db.embedded import SUPERUSER, DataDirLock, EmbeddedPostgres
from diarist.db.engine import resolve_urls, server_max_connections
from diarist.db.provision import DatabaseUrls, embedded_urls, provision
from diarist.logging import configure_logging

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

    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    started: float
    backoff_s: float = 0.0
    restart_at: float | None = None
    restarts: int = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)  # noqa: S603
        self.started = time.monotonic()
        self.restart_at = None


_BACKOFF_FIRST_S = 1.0
_BACKOFF_MAX_S = 30.0
_STEADY_S = 60.0


def _watch(children: list[_Child]) -> None:
    """Restart what died (after its backoff), logging each exit and restart."""
    now = time.monotonic()
    for child in children:
        if child.restart_at is not None:
            if now >= child.restart_at:
                child.start()
                child.restarts += 1
                _log.warning("child_restarted", name=_name(child), pid=child.process.pid,
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
        _log.error("child_exited", name=_name(child), pid=child.process.pid,
                   returncode=child.process.returncode, restart_in_s=child.backoff_s)  # fmt: skip


def _name(child: _Child) -> str:
    return "api" if "uvicorn" in child.command else child.command[-1]


def _start_children(settings: Settings, options: ServeOptions, env: dict[str, str]) -> list[_Child]:
    commands = [(api_command(settings, options), env)]
    if settings.analysis.embedder_url is None:  # else one runs elsewhere
        # The embedder needs no database and no secret: it gets neither.
        secrets = ("DIARIST_DATABASE_URL", "DIARIST_DB__OWNER_URL", "DIARIST_DB__SYSTEM_URL",
                   "DIARIST_SECRET_KEY")  # fmt: skip
        bare = {key: value for key, value in env.items() if key not in secrets}
        commands.append(([sys.executable, "-m", "diarist", "embedder"], bare))
    if options.with_worker:
        commands.append(([sys.executable, "-m", "diarist", "worker"], env))
    started = time.monotonic()
    return [
        _Child(command, environment, subprocess.Popen(command, env=environment), started)  # noqa: S603
        for command, environment in commands
    ]


def _stop_children(supervised: list[_Child]) -> None:
    children = [child.process for child in supervised]
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
    server: EmbeddedPostgres | None = None
    children: list[_Child] = []
    try:
        if settings.embedded:
            server = EmbeddedPostgres(
                settings.data_dir, max_connections=server_max_connections(settings.db)
            )
            cluster = server.start()
            superuser = cluster.url(SUPERUSER, "postgres")
            provision(superuser, settings.db)
            urls = embedded_urls(superuser, settings.db)
        else:
            urls = resolve_urls(settings)
        if settings.auto_migrate:
            migrate.upgrade(urls.owner)
            _log.info("migrations_applied", heads=sorted(migrate.head_revisions()))
        if stop.is_set():
            return 0
        children = _start_children(settings, options, _child_env(settings, urls, options.workers))
        _log.info("serve_started", host=settings.host, port=settings.port, workers=options.workers)
        while not stop.wait(0.5):
            _watch(children)
    finally:
        _stop_children(children)
        if server is not None:
            server.stop()
        lock.release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _log.info("serve_stopped", exit_code=0)
    return 0  # a dead child is restarted, never the end of serve
