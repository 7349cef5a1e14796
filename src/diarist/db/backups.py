"""Backups of the whole database: `pg_dump -Fc` with a manifest, verified by restoring into a
scratch database, restored into a new one, pruned 7 daily / 4 weekly / 12 monthly.

The manifest is taken from the same snapshot as the dump (`pg_export_snapshot()` in a
REPEATABLE READ transaction held open while pg_dump runs with `--snapshot`): for every table
its row count and an order-independent checksum (the sum of a 64-bit hash of each row's text),
the schema revision, the diarist version, the dump file's SHA-256, and a digest of the
attachment store's objects. Verify restores the dump into a scratch database, computes the same
figures there and compares them. See docs/backups.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from diarist import __version__
from diarist.config import Settings
from diarist.db.embedded import SUPERUSER, binaries_dir, embedded_cluster
from diarist.db.provision import DatabaseUrls, libpq_url, provision
from diarist.db.sealed_files import SealedFileError, file_key, open_stream, seal_stream

SUFFIX = ".dump"
KEY_PURPOSE = "diarist/backup/v1"
MANIFEST_SUFFIX = ".json"
FORMAT = "diarist-backup/1"
_CHUNK = 1024 * 1024
Step = Callable[[str], None]
# What a restore's `step` says once the database is checked and usable (its embedding indexes
# are built after).
USABLE = "usable"


class BackupError(RuntimeError):
    """A backup could not be made, read, verified or restored (the message says why)."""


@dataclass(frozen=True)
class TableFigures:
    rows: int
    checksum: str


@dataclass
class Manifest:
    format: str
    file: str
    sha256: str
    size_bytes: int
    created_at: str
    diarist_version: str
    schema_revision: list[str]
    tables: dict[str, TableFigures]
    attachments: dict[str, Any] = field(default_factory=dict)
    # When `verify` last found it whole.
    verified_at: str | None = None
    # The dump is sealed (docs/backups.md, "Encryption").
    encrypted: bool = False

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            tables = {name: TableFigures(**value) for name, value in raw.pop("tables").items()}
            return cls(**raw, tables=tables)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise BackupError(f"{path.name}: not a readable manifest ({exc})") from None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")


def backup_dir(settings: Settings) -> Path:
    return settings.backups.dir or settings.data_dir / "backups"


def _binary(settings: Settings, name: str) -> str:
    folder = settings.backups.pg_bin_dir or binaries_dir()
    found = folder / name
    if not found.exists():
        located = shutil.which(name)
        if located is None:
            raise BackupError(f"{name} is not in {folder} nor on the PATH")
        return located
    return str(found)


def _client_env(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it (not
    on the command line, where `ps` would show it)."""
    env = {**os.environ, "PGAPPNAME": "diarist-backup"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return libpq_url(url.set(password=None)), env


_TABLES = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
)


def table_figures(conn: psycopg.Connection[Any]) -> dict[str, TableFigures]:
    """Row count and checksum of every table of the public schema, in the connection's
    snapshot."""
    figures: dict[str, TableFigures] = {}
    for (name,) in conn.execute(_TABLES).fetchall():
        query = sql.SQL(
            "SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0) FROM {} t"
        ).format(sql.Identifier(name))
        row = conn.execute(query).fetchone()
        assert row is not None
        figures[name] = TableFigures(rows=int(row[0]), checksum=str(row[1]))
    return figures


def _attachments_digest(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """What the attachment store should hold: its objects' count, bytes and a digest of their
    SHA-256s (the files themselves are not in the dump; docs/backups.md)."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(size_bytes), 0),"
        " md5(coalesce(string_agg(encode(sha256, 'hex'), '' ORDER BY sha256), ''))"
        " FROM attachment_blobs"
    ).fetchone()
    assert row is not None
    return {"objects": int(row[0]), "bytes": int(row[1]), "digest": row[2]}


def _schema_revision(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute("SELECT version_num FROM alembic_version ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def create_backup(settings: Settings, urls: DatabaseUrls, step: Step = print) -> Path:
    """Dump the database with its manifest into the backup dir; the dump's path."""
    folder = backup_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    name = f"diarist-{stamp.strftime('%Y%m%dT%H%M%S%fZ')}"
    target, partial = folder / f"{name}{SUFFIX}", folder / f"{name}{SUFFIX}.partial"
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            sees_all = conn.execute(
                "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
            if not (sees_all and sees_all[0]):  # a role bound by RLS would dump empty tables
                raise BackupError(
                    "a backup needs the owner role (DIARIST_DB__OWNER_URL), which sees every row"
                )
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert snapshot is not None
            step("counting rows and checksums")
            tables = table_figures(conn)
            attachments = _attachments_digest(conn)
            revision = _schema_revision(conn)
            step("dumping")
            _dump(settings, urls.owner, snapshot[0], partial)
    step("writing the manifest")
    os.replace(partial, target)
    manifest = Manifest(
        format=FORMAT, file=target.name, sha256=sha256_of(target),
        size_bytes=target.stat().st_size, created_at=stamp.isoformat(),
        diarist_version=__version__, schema_revision=revision, tables=tables,
        attachments=attachments, encrypted=_key(settings) is not None,
    )  # fmt: skip
    manifest.write(target.with_suffix(MANIFEST_SUFFIX))
    return target


def _key(settings: Settings) -> bytes | None:
    secret = settings.backups.encryption_key
    return file_key(secret.get_secret_value(), KEY_PURPOSE) if secret else None


def _dump(settings: Settings, owner: URL, snapshot: str, target: Path) -> None:
    """pg_dump of the snapshot into `target`, sealed on the way when a key is set."""
    dsn, env = _client_env(owner)
    command = [_binary(settings, "pg_dump"), "--format=custom", f"--snapshot={snapshot}",
               f"--compress={settings.backups.compress}", f"--dbname={dsn}"]  # fmt: skip
    key = _key(settings)
    with tempfile.TemporaryFile() as errors, target.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our binary, arguments we build
            command, env=env, stdout=subprocess.PIPE if key else out, stderr=errors
        )
        if key is not None:
            assert process.stdout is not None
            seal_stream(key, process.stdout, out)
        code = process.wait()
        if code != 0:
            errors.seek(0)
            target.unlink(missing_ok=True)
            message = errors.read().decode(errors="replace").strip()[-500:]
            raise BackupError(f"pg_dump failed: {message}")


def list_backups(settings: Settings) -> list[tuple[Path, Manifest]]:
    """The backups in the backup dir with their manifests, newest first."""
    folder = backup_dir(settings)
    found = []
    for path in sorted(folder.glob(f"diarist-*{SUFFIX}"), reverse=True):
        manifest_path = path.with_suffix(MANIFEST_SUFFIX)
        if manifest_path.exists():
            found.append((path, Manifest.read(manifest_path)))
    return found


def _restore_into(
    settings: Settings, superuser: URL, dump: Path, database: str, step: Step
) -> tuple[DatabaseUrls, list[str]]:
    """A new database (roles, extensions and grants as `provision` makes them) holding the
    dump (restored by the superuser; the objects keep the owner role as their owner) but its
    embedding indexes, whose SQL it returns."""
    with psycopg.connect(libpq_url(superuser.set(database="postgres")), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            raise BackupError(f"the database {database} exists already")
    step(f"creating the database {database}")
    provision(superuser, settings.db, database)
    owner = superuser.set(database=database, username=settings.db.owner_role)
    step("restoring")
    deferred = _pg_restore(settings, superuser.set(database=database), dump, step, defer_ann=True)
    urls = DatabaseUrls(
        app=owner.set(username=settings.db.app_role),
        owner=owner,
        system=owner.set(username=settings.db.system_role),
    )
    return urls, deferred


# The approximate-nearest-neighbour indexes over embeddings: nearly all of a large restore's
# time (a million 384-d vectors: ~18 of 20 minutes). A restore builds them after the rest, once
# the database is checked and usable (semantic search scans exactly meanwhile).
_DEFERRED_INDEX = re.compile(r"^\d+; .* INDEX public ix_entry_embeddings_hnsw_\w+ ")


def _pg_restore(
    settings: Settings, url: URL, dump: Path, step: Step = print, *, defer_ann: bool = False
) -> list[str]:
    """pg_restore of the dump into `url`'s database in one transaction, opened on the way
    when it is sealed; with `defer_ann`, without the embedding indexes, whose SQL it returns
    (for `build_deferred_indexes`)."""
    if not defer_ann:
        _run_pg_restore(settings, dump, ["--single-transaction"], url)
        return []
    toc = _run_pg_restore(settings, dump, ["--list"]).decode().splitlines(keepends=True)
    deferred = [line for line in toc if _DEFERRED_INDEX.match(line)]
    with tempfile.TemporaryDirectory() as folder:
        rest, later = Path(folder) / "rest.list", Path(folder) / "later.list"
        rest.write_text("".join(line for line in toc if line not in deferred))
        later.write_text("".join(deferred))
        _run_pg_restore(settings, dump, ["--single-transaction", f"--use-list={rest}"], url)
        if not deferred:
            return []
        step(f"{len(deferred)} embedding index(es) left for after the check")
        text = _run_pg_restore(settings, dump, [f"--use-list={later}", "--file=-"]).decode()
    return [part.strip() + ";" for part in text.split(";") if "CREATE INDEX" in part]


def build_deferred_indexes(settings: Settings, url: URL, statements: list[str]) -> None:
    """Build the indexes a restore left for later, without blocking writes (CONCURRENTLY)
    and with the machine's parallel maintenance workers."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("SET maintenance_work_mem = {}").format(
                sql.Literal(f"{settings.backups.restore_memory_mb}MB")
            )
        )
        conn.execute("SET max_parallel_maintenance_workers = 4")
        for statement in statements:
            body = statement[statement.index("CREATE INDEX") + len("CREATE INDEX") :]
            conn.execute(sql.SQL("CREATE INDEX CONCURRENTLY" + body))


def _run_pg_restore(
    settings: Settings, dump: Path, args: list[str], url: URL | None = None
) -> bytes:
    """Run pg_restore on the dump (fed through a pipe, opened on the way, when it is sealed)
    into `url`'s database (None: to its standard output); its standard output."""
    if url is not None:
        dsn, env = _client_env(url)
        args = [*args, f"--dbname={dsn}"]
    else:
        env = {**os.environ, "PGAPPNAME": "diarist-backup"}
    # The HNSW and GIN index builds dominate a restore; give them room (seed measurement:
    # 135 s with the default 64 MB, 37 s with 1 GB, for 100 k entries).
    env["PGOPTIONS"] = f"-c maintenance_work_mem={settings.backups.restore_memory_mb}MB"
    sealed = Manifest.read(dump.with_suffix(MANIFEST_SUFFIX)).encrypted
    key = _key(settings)
    if sealed and key is None:
        raise BackupError("this backup is encrypted: DIARIST_BACKUPS__ENCRYPTION_KEY is needed")
    command = [_binary(settings, "pg_restore"), "--exit-on-error", *args]
    with (
        tempfile.TemporaryFile() as errors,
        tempfile.TemporaryFile() as output,
        dump.open("rb") as source,
    ):
        process = subprocess.Popen(  # noqa: S603 - our binary, arguments we build
            [*command, *([] if sealed else [str(dump)])],
            env=env, stdin=subprocess.PIPE if sealed else subprocess.DEVNULL, stderr=errors,
            stdout=output,
        )  # fmt: skip
        opened = None
        if sealed:
            assert process.stdin is not None
            assert key is not None
            try:
                for chunk in open_stream(key, source):
                    process.stdin.write(chunk)
            except SealedFileError as exc:
                opened = exc
            except BrokenPipeError:
                pass  # pg_restore stopped: its own error says why
            finally:
                process.stdin.close()
        code = process.wait()
        if opened is not None:
            raise BackupError(f"the backup cannot be opened: {opened}")
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()[-500:]
            raise BackupError(f"pg_restore failed: {message}")
        output.seek(0)
        return output.read()


def _drop_database(superuser: URL, database: str) -> None:
    with psycopg.connect(libpq_url(superuser.set(database="postgres")), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


@dataclass
class Verification:
    ok: bool
    problems: list[str]
    tables: int
    rows: int


def verify_backup(
    settings: Settings, superuser: URL, dump: Path, step: Step = print
) -> Verification:
    """Check the dump's SHA-256, restore it into a scratch database and compare every table's
    count and checksum with the manifest; the scratch database is dropped afterwards (its
    embedding indexes are never built: they hold no data to compare)."""
    manifest = Manifest.read(dump.with_suffix(MANIFEST_SUFFIX))
    step("checking the file's SHA-256")
    if not dump.exists() or sha256_of(dump) != manifest.sha256:
        return Verification(False, ["the file's SHA-256 is not the manifest's"], 0, 0)
    scratch = f"diarist_verify_{secrets.token_hex(4)}"
    try:
        urls, _deferred = _restore_into(settings, superuser, dump, scratch, step)
        step("comparing counts and checksums")
        with psycopg.connect(libpq_url(urls.owner)) as conn:
            found = table_figures(conn)
    except BackupError as exc:
        return Verification(False, [str(exc)], 0, 0)
    finally:
        _drop_database(superuser, scratch)
    problems = [
        f"{name}: {found.get(name)} restored, {expected} in the manifest"
        for name, expected in manifest.tables.items()
        if found.get(name) != expected
    ]
    problems += [
        f"{name}: restored but not in the manifest"
        for name in found.keys() - manifest.tables.keys()
    ]
    rows = sum(figures.rows for figures in manifest.tables.values())
    if not problems:
        manifest.verified_at = datetime.now(UTC).isoformat()
        manifest.write(dump.with_suffix(MANIFEST_SUFFIX))
    return Verification(not problems, problems, len(manifest.tables), rows)


def restore_backup(
    settings: Settings, superuser: URL, dump: Path, database: str, step: Step = print
) -> DatabaseUrls:
    """Restore into a new database `database` (never over an existing one); check it against
    the manifest — from then on it is usable (`step` says "usable") — and build its embedding
    indexes (CONCURRENTLY: a server may already run on it); its role URLs."""
    manifest = Manifest.read(dump.with_suffix(MANIFEST_SUFFIX))
    if sha256_of(dump) != manifest.sha256:
        raise BackupError("the file's SHA-256 is not the manifest's")
    urls, deferred = _restore_into(settings, superuser, dump, database, step)
    with psycopg.connect(libpq_url(urls.owner)) as conn:
        if table_figures(conn) != manifest.tables:
            raise BackupError(f"the restored {database} differs from the manifest")
    step(USABLE)
    if deferred:
        step(f"building {len(deferred)} embedding index(es)")
        build_deferred_indexes(settings, superuser.set(database=database), deferred)
    return urls


def backups_to_prune(
    days: Iterable[tuple[Path, date]], *, daily: int, weekly: int, monthly: int
) -> list[Path]:
    """Which backups retention lets go: kept are the newest backup of each of the `daily`
    latest days that have one, of the `weekly` latest ISO weeks and of the `monthly` latest
    months (one backup may count for all three)."""
    newest_first = sorted(days, key=lambda item: item[1], reverse=True)
    keep: set[Path] = set()
    for count, key in (
        (daily, lambda d: d),
        (weekly, lambda d: d.isocalendar()[:2]),
        (monthly, lambda d: (d.year, d.month)),
    ):
        seen: list[object] = []
        for path, day in newest_first:
            period = key(day)
            if period in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(period)
            keep.add(path)
    return [path for path, _ in newest_first if path not in keep]


def prune_backups(settings: Settings, step: Step = print) -> list[Path]:
    """Delete the backups retention lets go (with their manifests); which."""
    found = [
        (path, datetime.fromisoformat(m.created_at).date()) for path, m in list_backups(settings)
    ]
    keep = settings.backups
    doomed = backups_to_prune(
        found, daily=keep.keep_daily, weekly=keep.keep_weekly, monthly=keep.keep_monthly
    )
    for path in doomed:
        step(f"removing {path.name}")
        path.unlink(missing_ok=True)
        path.with_suffix(MANIFEST_SUFFIX).unlink(missing_ok=True)
    return doomed


@dataclass(frozen=True)
class BackupAge:
    """The newest backup, for readiness and the scheduled job."""

    made_at: datetime
    hours: float
    verified_at: datetime | None


def newest_backup(settings: Settings, now: datetime, *, verified: bool = False) -> BackupAge | None:
    """The newest backup (`verified`: the newest that `diarist backup verify` checked)."""
    for _path, manifest in list_backups(settings):
        if verified and not manifest.verified_at:
            continue
        made = datetime.fromisoformat(manifest.created_at)
        checked = datetime.fromisoformat(manifest.verified_at) if manifest.verified_at else None
        return BackupAge(made, (now - made).total_seconds() / 3600, checked)
    return None


def restore_to_data_dir(settings: Settings, dump: Path, data_dir: Path, step: Step = print) -> None:
    """Restore into a new embedded server under `data_dir` (which must not hold one), checked
    against the manifest; `diarist serve --data-dir` then runs on it."""
    if (data_dir / "pg").exists():
        raise BackupError(f"{data_dir} holds a database already")
    step(f"starting a new server in {data_dir}")
    with embedded_cluster(data_dir) as cluster:
        restore_backup(settings, cluster.url(SUPERUSER, "postgres"), dump, settings.db.name, step)
