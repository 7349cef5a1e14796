"""Point-in-time recovery on the embedded server (docs/backups.md, "Point in time").

- **Archiving**: `enable_archiving` sets `archive_mode`, PostgreSQL's own `basic_archive`
  module into a directory (`<data dir>/wal-archive` by default) and `archive_timeout` (so a
  quiet server's last writes reach the archive within five minutes); `archive_mode` takes
  effect at the next start of the server.
- **Base backups**: `take_base_backup` runs `pg_basebackup` (tar, gzip, the WAL it needs
  streamed in) into `<backup dir>/base/<time>/` with a label of when it started and finished;
  `prune_base_backups` keeps the newest N and removes the archived WAL older than the oldest
  kept one (`pg_archivecleanup`).
- **Restore to a time**: `restore_to_time` unpacks the newest base backup that finished before
  the target into a new data dir, replays the archive up to the target (`recovery_target_time`,
  the commits at or before it) and promotes: a server of its own, never writing to the live
  archive (`archive_mode = off` in the copy), that `diarist serve --data-dir` then runs on.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from diarist.config import Settings
from diarist.db.backups import BackupError, Step, backup_dir
from diarist.db.embedded import (
    SUPERUSER,
    DataDirLock,
    EmbeddedPostgres,
    RunningCluster,
    embedded_cluster,
)
from diarist.db.provision import libpq_url

LABEL = "label.json"
# A quiet server still sends its last writes to the archive after this many seconds.
ARCHIVE_TIMEOUT_S = 300
_PROMOTION_TIMEOUT_S = 600


def archive_dir(settings: Settings) -> Path:
    return settings.backups.wal_archive_dir or settings.data_dir / "wal-archive"


def base_dir(settings: Settings) -> Path:
    return backup_dir(settings) / "base"


def enable_archiving(server: EmbeddedPostgres, superuser: URL, archive: Path) -> bool:
    """Archive the server's WAL into `archive`; whether the server must restart for it."""
    archive.mkdir(parents=True, exist_ok=True, mode=0o700)
    server.give(archive)
    with psycopg.connect(libpq_url(superuser), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET archive_mode = 'on'")
        conn.execute("ALTER SYSTEM SET archive_library = 'basic_archive'")
        conn.execute(
            sql.SQL("ALTER SYSTEM SET basic_archive.archive_directory = {}").format(
                sql.Literal(str(archive))
            )
        )
        conn.execute(
            sql.SQL("ALTER SYSTEM SET archive_timeout = {}").format(sql.Literal(ARCHIVE_TIMEOUT_S))
        )
        conn.execute("SELECT pg_reload_conf()")
        return not archiving(conn)


def archiving(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server archives its WAL now."""
    found = conn.execute("SELECT current_setting('archive_mode')").fetchone()
    return found is not None and found[0] == "on"


@dataclass(frozen=True)
class BaseBackup:
    path: Path
    started_at: datetime
    finished_at: datetime


def take_base_backup(
    server: EmbeddedPostgres, cluster: RunningCluster, root: Path, step: Step = print
) -> BaseBackup:
    """A base backup of the running server into `root/<time>/` (tar, gzip, with its WAL)."""
    started = datetime.now(UTC)
    target = root / started.strftime("%Y%m%dT%H%M%S%fZ")
    target.mkdir(parents=True, mode=0o700)
    server.give(target)
    step(f"base backup into {target}")
    server.run(
        "pg_basebackup",
        "-h", str(cluster.socket_dir), "-p", str(cluster.port), "-U", SUPERUSER,
        "-D", str(target), "-F", "tar", "-z", "-X", "stream", "-c", "fast",
        "--label", f"diarist {started.isoformat()}",
        timeout=24 * 3600,
    )  # fmt: skip
    finished = datetime.now(UTC)
    label = {"started_at": started.isoformat(), "finished_at": finished.isoformat()}
    (target / LABEL).write_text(json.dumps(label, indent=2) + "\n")
    return BaseBackup(target, started, finished)


def base_backup_now(settings: Settings, step: Step = print) -> BaseBackup:
    """A base backup of the data dir's server (the running one, or started for it), then the
    newest DIARIST_BACKUPS__KEEP_BASE kept with the archived WAL they need. Refused while the
    server does not archive (a base backup is only of use with every WAL file after it)."""
    server = EmbeddedPostgres(settings.data_dir)
    with embedded_cluster(settings.data_dir) as cluster:
        with psycopg.connect(libpq_url(cluster.url(SUPERUSER, "postgres"))) as conn:
            if not archiving(conn):
                raise BackupError(
                    "WAL archiving is not on: `diarist backup pitr enable`, then restart diarist"
                )
        taken = take_base_backup(server, cluster, base_dir(settings), step)
    prune_base_backups(
        server, base_dir(settings), archive_dir(settings), settings.backups.keep_base, step
    )
    return taken


def base_backups(root: Path) -> list[BaseBackup]:
    """The finished base backups under `root`, newest first."""
    found: list[BaseBackup] = []
    for label in root.glob(f"*/{LABEL}"):
        data = json.loads(label.read_text())
        found.append(
            BaseBackup(
                label.parent,
                datetime.fromisoformat(data["started_at"]),
                datetime.fromisoformat(data["finished_at"]),
            )
        )
    return sorted(found, key=lambda backup: backup.finished_at, reverse=True)


def prune_base_backups(
    server: EmbeddedPostgres, root: Path, archive: Path, keep: int, step: Step = print
) -> list[Path]:
    """Keep the newest `keep` base backups, and the archived WAL from the oldest kept on."""
    backups = base_backups(root)
    removed = [backup.path for backup in backups[keep:]]
    for path in removed:
        step(f"removing {path}")
        shutil.rmtree(path)
    kept = backups[:keep]
    if kept:
        oldest = _first_wal_file(kept[-1].path)
        if oldest is not None:
            step(f"removing archived WAL before {oldest}")
            server.run("pg_archivecleanup", str(archive), oldest)
    return removed


def _first_wal_file(backup: Path) -> str | None:
    """The WAL file a base backup starts from (its backup_label's START WAL LOCATION)."""
    with tarfile.open(backup / "base.tar.gz") as tar:
        member = tar.extractfile("backup_label")
        if member is None:
            return None
        for line in member.read().decode().splitlines():
            if line.startswith("START WAL LOCATION"):
                return line.rsplit("(file ", 1)[1].rstrip(")")
    return None


def restore_to_time(
    settings: Settings, target: datetime, data_dir: Path, step: Step = print
) -> BaseBackup:
    """A promoted copy of the database as it was at `target`, in a new data dir."""
    if target.tzinfo is None:
        raise BackupError("give the time with its offset, e.g. 2026-12-05T10:30:00+01:00")
    pgdata = data_dir / "pg"
    if pgdata.exists():
        raise BackupError(f"{data_dir} holds a database already")
    candidates = [b for b in base_backups(base_dir(settings)) if b.finished_at < target]
    if not candidates:
        raise BackupError(f"no base backup finished before {target.isoformat()}")
    base = candidates[0]
    archive = archive_dir(settings)
    step(f"unpacking the base backup of {base.finished_at.isoformat()}")
    pgdata.mkdir(parents=True, mode=0o700)
    with tarfile.open(base.path / "base.tar.gz") as tar:
        tar.extractall(pgdata, filter="data")
    with tarfile.open(base.path / "pg_wal.tar.gz") as tar:
        tar.extractall(pgdata / "pg_wal", filter="data")
    # The live server's socket lock (its socket dir is its data dir) came along: not ours.
    for stale in pgdata.glob(".s.PGSQL.*"):
        stale.unlink()
    (pgdata / "recovery.signal").touch()
    with (pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.write(
            "\n# diarist backup restore --to-time\n"
            "archive_mode = 'off'\n"
            f'restore_command = \'cp "{archive}/%f" "%p"\'\n'
            f"recovery_target_time = '{target.isoformat()}'\n"
            "recovery_target_action = 'promote'\n"
        )
    server = EmbeddedPostgres(data_dir)
    with DataDirLock(data_dir):
        step("replaying the archived WAL up to the target")
        server.give(pgdata)
        cluster = server.start()
        try:
            _wait_for_promotion(cluster)
        finally:
            server.stop()
    return base


def _wait_for_promotion(cluster: RunningCluster) -> None:
    deadline = time.monotonic() + _PROMOTION_TIMEOUT_S
    url = libpq_url(cluster.url(SUPERUSER, "postgres"))
    while time.monotonic() < deadline:
        with psycopg.connect(url, autocommit=True) as conn:
            found = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        if found is not None and not found[0]:
            return
        time.sleep(0.2)
    raise BackupError("the restored server did not finish recovery in time")
