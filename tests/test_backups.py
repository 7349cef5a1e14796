"""Backups end to end on the embedded server's own binaries: made with a manifest from the
dump's own snapshot, verified by a restore into a scratch database, restored into a new
database with every table's rows and checksum equal — also while writes go on — and refused
when the file was changed; retention 7 daily / 4 weekly / 12 monthly."""

from __future__ import annotations

import asyncio
import io
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from diarist.app import create_app
from diarist.cli import cli
from diarist.config import Settings, get_settings
from diarist.db.backups import (
    MANIFEST_SUFFIX,
    USABLE,
    BackupError,
    Manifest,
    backups_to_prune,
    create_backup,
    list_backups,
    prune_backups,
    restore_backup,
    restore_to_data_dir,
    table_figures,
    verify_backup,
)
from diarist.db.embedded import SUPERUSER, RunningCluster, embedded_cluster
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls, libpq_url
from diarist.db.sealed_files import (
    CHUNK,
    MAGIC,
    SealedFileError,
    file_key,
    open_stream,
    seal_stream,
)
from diarist.ops import service as ops_service
from tests.conftest import make_settings
from tests.factories.accounts import signed_up
from tests.factories.journal import create_entry


def _quiet(_message: str) -> None:
    """Progress messages are not needed here."""


@pytest.fixture
async def filled(fresh_db: DatabaseUrls, tmp_path: Path) -> tuple[Settings, DatabaseUrls]:
    """A database with accounts, entries (with their tags and revisions) in it."""
    settings = make_settings(fresh_db, tmp_path)
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(2, 0), application_name="t")
    )
    app = create_app(settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        for _ in range(2):
            me = await signed_up(client)
            for n in range(5):
                entry = await create_entry(
                    client, me.auth, f"Day {n} by the river.", tags=["walks"]
                )
                await client.patch(f"/api/v1/entries/{entry['id']}", json={"title": f"T{n}"},
                                   headers=me.auth)  # fmt: skip
    await database.dispose()
    return settings, fresh_db


async def test_a_backup_verifies_and_restores_to_equal_tables(
    filled: tuple[Settings, DatabaseUrls], cluster: RunningCluster
) -> None:
    settings, urls = filled
    dump = create_backup(settings, urls, _quiet)
    manifest = Manifest.read(dump.with_suffix(MANIFEST_SUFFIX))
    assert manifest.tables["entries"].rows == 10
    assert manifest.tables["entry_revisions"].rows == 10
    assert manifest.tables["users"].rows == 2
    assert manifest.schema_revision
    assert [path for path, _ in list_backups(settings)] == [dump]

    superuser = cluster.url(SUPERUSER, "postgres")
    verified = verify_backup(settings, superuser, dump, _quiet)
    assert verified.ok, verified.problems
    assert verified.rows == sum(t.rows for t in manifest.tables.values())

    target = f"diarist_restored_{dump.stem[-8:].lower()}"
    steps: list[str] = []
    restored = restore_backup(settings, superuser, dump, target, steps.append)
    try:
        with psycopg.connect(libpq_url(restored.owner)) as conn:
            assert table_figures(conn) == manifest.tables
            # The embedding index is built after the check ("usable"), and is whole.
            valid = conn.execute(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = 'ix_entry_embeddings_hnsw_minilm'"
            ).fetchall()
            assert valid == [(True,)]
        assert steps.index(USABLE) < steps.index("building 1 embedding index(es)")
        with psycopg.connect(libpq_url(urls.owner)) as conn:
            assert table_figures(conn) == manifest.tables, "the source is unchanged"
        with pytest.raises(BackupError, match="exists already"):
            restore_backup(settings, superuser, dump, target, _quiet)
    finally:
        with psycopg.connect(libpq_url(superuser), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{target}" WITH (FORCE)')


async def test_a_backup_under_write_load_matches_its_own_snapshot(
    filled: tuple[Settings, DatabaseUrls], cluster: RunningCluster
) -> None:
    settings, urls = filled
    stop = asyncio.Event()

    async def write() -> int:
        written = 0
        with psycopg.connect(libpq_url(urls.system), autocommit=True) as conn:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO notifications (user_id, kind, title)"
                    " SELECT id, 'system', 'load' FROM users"
                )
                written += 1
                await asyncio.sleep(0)
        return written

    writer = asyncio.create_task(write())
    await asyncio.sleep(0.05)
    dump = await asyncio.to_thread(create_backup, settings, urls, _quiet)
    stop.set()
    assert await writer > 0
    verified = verify_backup(settings, cluster.url(SUPERUSER, "postgres"), dump, _quiet)
    assert verified.ok, verified.problems


async def test_a_changed_file_fails_verification(
    filled: tuple[Settings, DatabaseUrls], cluster: RunningCluster
) -> None:
    settings, urls = filled
    dump = create_backup(settings, urls, _quiet)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    superuser = cluster.url(SUPERUSER, "postgres")
    verified = verify_backup(settings, superuser, dump, _quiet)
    assert not verified.ok
    assert verified.problems == ["the file's SHA-256 is not the manifest's"]
    with pytest.raises(BackupError, match="SHA-256"):
        restore_backup(settings, superuser, dump, "diarist_never_made", _quiet)
    dump.with_suffix(MANIFEST_SUFFIX).write_text("{not json")
    with pytest.raises(BackupError, match="not a readable manifest"):
        verify_backup(settings, superuser, dump, _quiet)


def test_retention_keeps_seven_daily_four_weekly_twelve_monthly() -> None:
    start = date(2026, 1, 1)
    # Two backups a day for a year and a half, newest last.
    days = [(Path(f"b{n}-{k}"), start + timedelta(days=n)) for n in range(540) for k in (0, 1)]
    doomed = set(backups_to_prune(days, daily=7, weekly=4, monthly=12))
    kept = [(path, day) for path, day in days if path not in doomed]
    newest = start + timedelta(days=539)
    kept_days = sorted({day for _, day in kept}, reverse=True)
    assert kept_days[:7] == [newest - timedelta(days=n) for n in range(7)]
    assert len({day.isocalendar()[:2] for day in kept_days}) >= 4
    assert len({(day.year, day.month) for day in kept_days}) == 12
    assert len(kept) == len(kept_days), "one backup a kept day, the newest of it"
    assert len(kept) <= 7 + 4 + 12


def test_prune_removes_dumps_and_manifests(
    filled: tuple[Settings, DatabaseUrls],
) -> None:
    settings, urls = filled
    made = [create_backup(settings, urls, _quiet) for _ in range(3)]
    settings.backups.keep_daily = 1
    settings.backups.keep_weekly = 0
    settings.backups.keep_monthly = 0
    removed = prune_backups(settings, _quiet)
    assert sorted(removed) == sorted(made[:2])
    assert [path for path, _ in list_backups(settings)] == [made[2]]
    assert not made[0].with_suffix(MANIFEST_SUFFIX).exists()


def test_the_backup_commands(
    cli_env: dict[str, str], cluster: RunningCluster, tmp_path: Path
) -> None:
    env = {**cli_env, "DIARIST_BACKUPS__DIR": str(tmp_path / "kept")}
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), env=env)
        return result.exit_code, result.output

    assert run("user", "create", "--email", "b@example.org", "--name", "B", "--no-password")[0] == 0
    code, out = run("backup", "create")
    assert code == 0, out
    [dump] = (tmp_path / "kept").glob("*.dump")
    code, out = run("backup", "list")
    assert dump.name in out
    code, out = run("backup", "verify", str(dump))
    assert code == 1, out
    assert "DIARIST_BACKUPS__SUPERUSER_URL" in out
    superuser = cluster.url(SUPERUSER, "postgres").render_as_string(hide_password=False)
    env["DIARIST_BACKUPS__SUPERUSER_URL"] = superuser
    get_settings.cache_clear()  # the settings are read once a process
    code, out = run("backup", "verify", str(dump))
    assert code == 0, out
    assert "as in the manifest" in out
    target = f"diarist_cli_{dump.stem[-10:].lower()}"
    code, out = run("backup", "restore", str(dump), "--to-database", target)
    assert code == 0, out
    code, out = run("backup", "restore", str(dump), "--to-database", target)
    assert code == 1
    assert "exists already" in out
    with psycopg.connect(libpq_url(cluster.url(SUPERUSER, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{target}" WITH (FORCE)')
    code, out = run("backup", "prune")
    assert code == 0, out
    assert "removed 0 backup(s)" in out


def test_a_role_bound_by_rls_cannot_make_a_backup(filled: tuple[Settings, DatabaseUrls]) -> None:
    settings, urls = filled
    as_app = DatabaseUrls(app=urls.app, owner=urls.app, system=urls.system)
    with pytest.raises(BackupError, match="owner role"):
        create_backup(settings, as_app, _quiet)
    assert list_backups(settings) == []


async def test_scheduled_backups_and_readiness(filled: tuple[Settings, DatabaseUrls]) -> None:
    settings, urls = filled
    now = datetime.now(UTC)
    assert ops_service.scheduled_backup(settings, urls, now) == "off"
    assert ops_service.backup_state(settings, now) is None
    settings.backups.every_hours = 24
    overdue = ops_service.backup_state(settings, now)
    assert overdue is not None
    assert overdue.overdue, "scheduled and none made yet"
    made = ops_service.scheduled_backup(settings, urls, now)
    assert made.startswith("diarist-")
    assert ops_service.scheduled_backup(settings, urls, now + timedelta(hours=3)) == "not due"
    fresh = ops_service.backup_state(settings, now + timedelta(hours=3))
    assert fresh is not None
    assert (fresh.overdue, fresh.verified_at, round(fresh.age_hours)) == (False, None, 3)
    assert ops_service.backup_state(settings, now + timedelta(hours=49)).overdue  # type: ignore[union-attr]
    database = Database(create_engine(urls.app, settings.db, PoolPlan(1, 0), application_name="t"))
    app = create_app(settings, database=database)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        ready = (await client.get("/readyz")).json()
        unverified = await client.get("/metrics")
        [(dump, manifest)] = list_backups(settings)
        manifest.verified_at = (now + timedelta(minutes=1)).isoformat()
        manifest.write(dump.with_suffix(MANIFEST_SUFFIX))
        verified = (await client.get("/metrics")).text
    await database.dispose()
    assert ready["status"] == "ready"
    assert ready["backup"]["overdue"] is False
    assert ready["backup"]["age_hours"] < 1
    assert ready["backup"]["verified_age_hours"] is None
    assert unverified.headers["content-type"].startswith("text/plain")
    assert "diarist_backup_age_seconds " in unverified.text
    assert "diarist_backup_verified_age_seconds" not in unverified.text
    assert "diarist_backup_overdue 0.0" in unverified.text
    assert "diarist_backup_verified_age_seconds " in verified


def test_an_encrypted_backup_verifies_restores_and_refuses_tampering(
    filled: tuple[Settings, DatabaseUrls], cluster: RunningCluster
) -> None:
    settings, urls = filled
    settings.backups.encryption_key = SecretStr("a long backup secret kept elsewhere 123")
    dump = create_backup(settings, urls, _quiet)
    manifest = Manifest.read(dump.with_suffix(MANIFEST_SUFFIX))
    assert manifest.encrypted
    raw = dump.read_bytes()
    assert raw.startswith(MAGIC)
    assert b"CREATE TABLE" not in raw, "nothing readable at rest"
    superuser = cluster.url(SUPERUSER, "postgres")
    assert verify_backup(settings, superuser, dump, _quiet).ok

    settings.backups.encryption_key = SecretStr("another secret entirely 4567890")
    wrong = verify_backup(settings, superuser, dump, _quiet)
    assert not wrong.ok
    assert "cannot be opened" in wrong.problems[0]
    settings.backups.encryption_key = None
    with pytest.raises(BackupError, match="ENCRYPTION_KEY"):
        restore_backup(settings, superuser, dump, "diarist_never_restored", _quiet)


def test_sealed_streams_open_only_whole_and_in_order() -> None:
    key = file_key("secret", "test")
    plain = os.urandom(CHUNK * 2 + 123)
    sealed = io.BytesIO()
    seal_stream(key, io.BytesIO(plain), sealed)
    data = sealed.getvalue()
    assert b"".join(open_stream(key, io.BytesIO(data))) == plain
    first = 24 + 4 + CHUNK + 16  # magic, prefix, then the first chunk with its length and tag
    cases = {
        "flipped": data[:100] + bytes([data[100] ^ 1]) + data[101:],
        "cut after a chunk": data[:first],
        "cut inside": data[:-5],
        "not sealed": b"PGDMP" + data[5:],
        "empty": b"",
    }
    for name, broken in cases.items():
        with pytest.raises(SealedFileError):
            b"".join(open_stream(key, io.BytesIO(broken)))
        assert name
    with pytest.raises(SealedFileError):
        b"".join(open_stream(file_key("other", "test"), io.BytesIO(data)))


def test_a_restore_into_a_new_data_dir(
    filled: tuple[Settings, DatabaseUrls], tmp_path: Path
) -> None:
    settings, urls = filled
    dump = create_backup(settings, urls, _quiet)
    target = tmp_path / "restored-node"
    restore_to_data_dir(settings, dump, target, _quiet)
    with embedded_cluster(target) as node:
        restored = node.url(SUPERUSER, settings.db.name)
        with psycopg.connect(libpq_url(restored)) as conn:
            assert table_figures(conn) == Manifest.read(dump.with_suffix(MANIFEST_SUFFIX)).tables
    with pytest.raises(BackupError, match="holds a database already"):
        restore_to_data_dir(settings, dump, target, _quiet)
