"""Point-in-time recovery on an embedded server of the test's own: archiving switched on, a
base backup, rows written before and after a moment, and a restore to that moment that holds
exactly the rows committed before it — and the archive pruned to what the kept base backups
need."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from diarist.cli import cli
from diarist.config import Settings, get_settings
from diarist.db.backups import BackupError
from diarist.db.embedded import SUPERUSER, DataDirLock, EmbeddedPostgres, RunningCluster
from diarist.db.pitr import (
    archive_dir,
    base_backups,
    base_dir,
    enable_archiving,
    prune_base_backups,
    restore_to_time,
    take_base_backup,
)
from diarist.db.provision import libpq_url
from diarist.ops import service as ops_service


def _connect(cluster: RunningCluster) -> psycopg.Connection[Any]:
    return psycopg.connect(libpq_url(cluster.url(SUPERUSER, "postgres")), autocommit=True)


def _archived(conn: psycopg.Connection[Any]) -> None:
    """Close the current WAL file and wait until the archiver has it (a record written first:
    a switch right after another one closes nothing)."""
    conn.execute("SELECT pg_logical_emit_message(false, 'test', 'switch')")
    found = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
    assert found is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT last_archived_wal, failed_count FROM pg_stat_archiver"
        ).fetchone()
        assert row is not None
        assert row[1] == 0, "the archiver failed"
        if row[0] is not None and row[0] >= found[0]:
            return
        time.sleep(0.1)
    raise AssertionError("the WAL was not archived")


def test_a_restore_to_a_time_holds_exactly_what_was_committed_before_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "live"
    settings = Settings(_env_file=None, data_dir=data_dir)
    server = EmbeddedPostgres(data_dir)
    with DataDirLock(data_dir):
        cluster = server.start()
        try:
            restart = enable_archiving(
                server, cluster.url(SUPERUSER, "postgres"), archive_dir(settings)
            )
            assert restart, "archive_mode takes effect at the next start"
            server.stop()
            cluster = server.start()
            with _connect(cluster) as conn:
                assert conn.execute("SHOW archive_mode").fetchone() == ("on",)
                conn.execute("CREATE TABLE diary (line text)")
                conn.execute("INSERT INTO diary VALUES ('before the base backup')")
            first = take_base_backup(server, cluster, base_dir(settings), print)
            with _connect(cluster) as conn:
                conn.execute("INSERT INTO diary VALUES ('after the base backup')")
                moment = conn.execute("SELECT clock_timestamp()").fetchone()
                assert moment is not None
                time.sleep(0.05)
                conn.execute("INSERT INTO diary VALUES ('the marker, after the moment')")
                _archived(conn)
            second = take_base_backup(server, cluster, base_dir(settings), print)
            with _connect(cluster) as conn:
                _archived(conn)
        finally:
            server.stop()

    target: datetime = moment[0]
    copy = tmp_path / "copy"
    used = restore_to_time(settings, target, copy, print)
    assert used.path == first.path, "the newest base backup finished before the moment"
    restored = EmbeddedPostgres(copy)
    with DataDirLock(copy):
        cluster = restored.start()
        try:
            with _connect(cluster) as conn:
                rows = [row[0] for row in conn.execute("SELECT line FROM diary ORDER BY 1")]
                assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
                assert conn.execute("SHOW archive_mode").fetchone() == ("off",), (
                    "not the live archive"
                )
        finally:
            restored.stop()
    assert rows == ["after the base backup", "before the base backup"]

    with pytest.raises(BackupError, match="holds a database"):
        restore_to_time(settings, target, copy, print)
    with pytest.raises(BackupError, match="no base backup"):
        restore_to_time(settings, first.started_at - timedelta(seconds=1), tmp_path / "x", print)
    with pytest.raises(BackupError, match="offset"):
        restore_to_time(settings, target.replace(tzinfo=None), tmp_path / "y", print)

    archive = archive_dir(settings)
    before = sorted(path.name for path in archive.iterdir())
    removed = prune_base_backups(server, base_dir(settings), archive, 1, print)
    assert removed == [first.path]
    assert [backup.path for backup in base_backups(base_dir(settings))] == [second.path]
    after = sorted(path.name for path in archive.iterdir())
    assert len(after) < len(before), "the WAL only the removed base backup needed is gone"


def test_the_pitr_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pitr enable` sets archiving for the next start, `pitr base` refuses until it is on and
    then takes one; `restore --to-time` checks what it is given; an external server is the
    operator's."""
    for name in ("DIARIST_DATABASE_URL", "DIARIST_DB__OWNER_URL", "DIARIST_DB__SYSTEM_URL"):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    env = {"DIARIST_DATA_DIR": str(data_dir)}
    runner = CliRunner()

    def run(*args: str, **extra: str) -> tuple[int, str]:
        get_settings.cache_clear()
        result = runner.invoke(cli, list(args), env={**env, **extra})
        return result.exit_code, " ".join(result.output.split())  # rich wraps long lines

    code, out = run("backup", "pitr", "base")
    assert code == 1, out
    assert "archiving is not on" in out
    code, out = run("backup", "pitr", "enable")
    assert code == 0, out
    assert "begins at the server's next start" in out
    code, out = run("backup", "pitr", "base")
    assert code == 0, out
    [label] = (data_dir / "backups" / "base").glob("*/label.json")
    assert "made" in out
    assert (label.parent / "base.tar.gz").stat().st_size > 0
    assert run("backup", "restore", "--to-time", "2026-12-05T10:00:00+00:00")[0] == 2
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"")
    code, out = run(
        "backup", "restore", str(dump), "--to-time", "2026-12-05T10:00:00+00:00",
        "--to-data-dir", str(tmp_path / "copy"),
    )  # fmt: skip
    assert code == 2, out
    code, out = run(
        "backup", "restore", "--to-time", "2001-01-01T00:00:00+00:00",
        "--to-data-dir", str(tmp_path / "copy"),
    )  # fmt: skip
    assert code == 1, out
    assert "no base backup finished before" in out
    code, out = run(
        "backup", "pitr", "enable", DIARIST_DATABASE_URL="postgresql://u@localhost/elsewhere"
    )
    assert code == 2, out
    assert "operator" in out
    get_settings.cache_clear()


def test_the_worker_takes_base_backups_when_due(tmp_path: Path) -> None:
    data_dir = tmp_path / "live"
    settings = Settings(_env_file=None, data_dir=data_dir)
    now = datetime.now(UTC)
    assert ops_service.scheduled_base_backup(settings, now) == "off"
    settings.backups.base_every_hours = 24
    assert ops_service.scheduled_base_backup(settings, now) == "refused", "not archiving yet"
    server = EmbeddedPostgres(data_dir)
    with DataDirLock(data_dir):
        cluster = server.start()
        enable_archiving(server, cluster.url(SUPERUSER, "postgres"), archive_dir(settings))
        server.stop()
    made = ops_service.scheduled_base_backup(settings, now)
    assert made == base_backups(base_dir(settings))[0].path.name
    assert ops_service.scheduled_base_backup(settings, now + timedelta(hours=2)) == "not due"
    settings.backups.keep_base = 1
    again = ops_service.scheduled_base_backup(settings, now + timedelta(hours=25))
    assert [backup.path.name for backup in base_backups(base_dir(settings))] == [again]
