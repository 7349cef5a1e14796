"""The load itself: users, tokens and tags, then entries, tags and vectors COPYed by parallel
processes, the trigger-maintained rows written in bulk, indexes rebuilt, VACUUM ANALYZE."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psutil
import psycopg

from bench.dataset._encoding import (
    BINARY_HEADER,
    encode_bytea,
    encode_embedding_row,
    encode_row,
    encode_timestamp,
)
from bench.dataset._plan import (
    ENTRY_COLUMNS,
    PlannedEntry,
    UserPlan,
    derive_entry_seed,
    encode_user_row,
    generate_entry,
    plan_users,
)
from bench.dataset._spec import BenchUser, DatasetSpec, LoadReport
from bench.generator import journal_entry_text
from diarist.accounts.passwords import hash_password
from diarist.accounts.personal_data import PersonalData
from diarist.accounts.secrets import token_digest
from diarist.config import Settings
from diarist.models.analysis import LOCAL_EMBEDDING_MODEL

PASSWORD = "bench-password-123"  # noqa: S105 - every bench user's, on a throw-away cluster
# Ids of entries kept per user for the driver's "get one" requests.
KEPT_IDS = 2_000
# Triggers whose per-row work the loader does in bulk instead (see the package docstring).
BULK_TRIGGERS = (
    ("entries", "entries_vocabulary"),
    ("entries", "entries_vocabulary_insert"),  # new entries' words, once a statement
    ("entry_tags", "entry_tags_usage"),
    ("entry_tags", "entry_tags_added"),  # counted up once a statement; the load counts in bulk
)


@dataclass
class _Part:
    """What one loader process wrote: counts, kept ids and word counts per user."""

    entries: int = 0
    links: int = 0
    ids: dict[int, list[uuid.UUID]] = field(default_factory=dict)
    words: dict[uuid.UUID, Counter[str]] = field(default_factory=dict)


def _load_part(conninfo: str, spec: DatasetSpec, part: int, parts: int) -> _Part:
    """Entries n = part (mod parts) of every user, their tags and vectors; one transaction."""
    plans = plan_users(spec)
    out = _Part()
    model = LOCAL_EMBEDDING_MODEL.encode()
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for start in range(0, len(plans), 50):
            batch = plans[start : start + 50]
            made: list[tuple[UserPlan, list[int], list[PlannedEntry]]] = []
            with cur.copy(f"COPY entries ({ENTRY_COLUMNS}) FROM STDIN") as copy:
                for plan in batch:
                    numbers = list(range(part, plan.entries, parts))
                    rows = []
                    for n in numbers:
                        entry = generate_entry(plan, spec, n)
                        copy.write(entry.line)
                        rows.append(entry)
                    made.append((plan, numbers, rows))
            with cur.copy("COPY entry_tags (user_id, entry_id, tag_id) FROM STDIN") as copy:
                for plan, _, rows in made:
                    for entry in rows:
                        for tag_id in entry.tag_ids:
                            copy.write(encode_row(str(plan.id), str(entry.id), str(tag_id)))
                            out.links += 1
            with cur.copy(
                "COPY entry_embeddings (user_id, entry_id, model, dimensions, embedding,"
                " content_hash, created_at) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.write(BINARY_HEADER)
                for plan, numbers, rows in made:
                    vectors = plan.vectors()
                    for n, entry in zip(numbers, rows, strict=True):
                        copy.write(encode_embedding_row(plan, entry, vectors[n], model))
                copy.write(b"\xff\xff")
            for plan, _, rows in made:
                out.entries += len(rows)
                keep = rows[:: max(1, len(rows) * parts // KEPT_IDS)]
                out.ids[plan.index] = [entry.id for entry in keep]
                out.words[plan.id] = Counter(w for entry in rows for w in entry.words)
        conn.commit()
    return out


def _list_extra_triggers(cur: psycopg.Cursor[Any]) -> list[str]:
    """User triggers on the loaded tables that the loader does not know (they fire as usual)."""
    known = {name for _, name in BULK_TRIGGERS}
    rows = cur.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
        " WHERE NOT tgisinternal AND tgrelid = ANY ('{entries,entry_tags,tags,entry_embeddings,"
        "users,auth_tokens}'::regclass[])"
    ).fetchall()
    return [f"{table}.{name}" for table, name in rows if name not in known]


def _check_words(cur: psycopg.Cursor[Any], spec: DatasetSpec) -> None:
    """The loader counts words in Python; refuse to load if that disagrees with the database."""
    plan = UserPlan(spec, spec.first_user, False)
    for n in range(min(50, plan.entries)):
        entry = generate_entry(plan, spec, n)
        content = journal_entry_text(derive_entry_seed(plan, spec, n))
        row = cur.execute("SELECT journal_words(%s)", (content,)).fetchone()
        if row is None or frozenset(row[0]) != entry.words:
            raise RuntimeError(
                "journal_words() changed: update bench.dataset._plan.extract_words to match"
            )


def load_dataset(
    conninfo: str, spec: DatasetSpec, settings: Settings, processes: int = 2
) -> tuple[list[BenchUser], LoadReport]:
    """COPY the dataset into the database at `conninfo` (the owner role) of the server that
    runs with `settings` (the users' addresses are sealed and indexed with its keys).

    Users, tokens and tags first; then `processes` loader processes COPY the entries (each
    a share of every user's) in parallel; then the bulk-derived rows, triggers back on, the
    dropped indexes rebuilt. A failure re-enables the triggers and rebuilds the indexes.
    """
    password_hash = asyncio.run(hash_password(PASSWORD))
    personal = PersonalData.from_settings(settings)
    plans = plan_users(spec)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        _check_words(cur, spec)
        extra = _list_extra_triggers(cur)
        if extra:
            print(f"dataset: triggers left on (statement-level or unknown): {', '.join(extra)}")
        dropped = cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE (tablename = 'entry_embeddings'"
            " AND indexdef ILIKE '%%USING hnsw%%') OR (tablename = 'entries'"
            " AND indexdef ILIKE '%%USING gin%%')"
        ).fetchall()
        started = time.perf_counter()
        with cur.copy(
            "COPY users (id, email_sealed, email_index, name, password_hash, auth_provider,"
            " preferences, created_at, updated_at) FROM STDIN"
        ) as copy:
            for plan in plans:
                copy.write(encode_user_row(plan, password_hash, personal))
        tokens = "COPY auth_tokens (user_id, kind, name, scope, token_hash) FROM STDIN"
        with cur.copy(tokens) as copy:
            for plan in plans:
                digest = encode_bytea(token_digest(plan.token))
                copy.write(encode_row(str(plan.id), "pat", "bench", "read_write", digest))
        with cur.copy("COPY tags (id, user_id, name, created_at, updated_at) FROM STDIN") as copy:
            for plan in plans:
                for name, tag_id in plan.tag_ids.items():
                    created = encode_timestamp(plan.created)
                    copy.write(encode_row(str(tag_id), str(plan.id), name, created, created))
        for table, trigger in BULK_TRIGGERS:
            cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        for name, _ in dropped:
            cur.execute(f'DROP INDEX "{name}"')
        conn.commit()
        ok = False
        try:
            with ProcessPoolExecutor(processes) as pool:
                futures = [
                    pool.submit(_load_part, conninfo, spec, part, processes)
                    for part in range(processes)
                ]
                parts = [future.result() for future in futures]
            copied = time.perf_counter()
            words: dict[uuid.UUID, Counter[str]] = {}
            for part in parts:
                for user_id, counts in part.words.items():
                    words.setdefault(user_id, Counter()).update(counts)
            with cur.copy("COPY user_words (user_id, word, entry_count) FROM STDIN") as copy:
                for user_id, counts in words.items():
                    for word, count in counts.items():
                        copy.write(encode_row(str(user_id), word, str(count)))
            ids = [plan.id for plan in plans]
            cur.execute(
                "UPDATE tags t SET usage_count = t.usage_count + c.n"
                " FROM (SELECT tag_id, count(*) AS n FROM entry_tags"
                "       WHERE user_id = ANY (%s) GROUP BY 1) AS c"
                " WHERE t.id = c.tag_id",
                (ids,),
            )
            ok = True
        finally:
            if not ok:
                conn.rollback()
            bulk = time.perf_counter()
            for table, trigger in BULK_TRIGGERS:
                cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            cur.execute(f"SET LOCAL maintenance_work_mem = '{_pick_index_memory_mb()}MB'")
            for _, definition in dropped:
                cur.execute(definition)
            conn.commit()
            indexed = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in ("users", "auth_tokens", "tags", "entries", "entry_tags", "entry_embeddings"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        conn.execute("ANALYZE user_words")
    done = time.perf_counter()
    users = [
        BenchUser(
            index=plan.index,
            id=plan.id,
            token=plan.token,
            heavy=plan.heavy,
            entries=plan.entries,
            tags=plan.tags,
            entry_ids=[i for part in parts for i in part.ids.get(plan.index, [])],
        )
        for plan in plans
    ]
    report = LoadReport(
        users=len(plans),
        entries=sum(part.entries for part in parts),
        entry_tags=sum(part.links for part in parts),
        embeddings=sum(part.entries for part in parts),
        copy_s=copied - started,
        bulk_s=bulk - copied,
        index_s=indexed - bulk,
        vacuum_analyze_s=done - indexed,
    )
    return users, report


def _pick_index_memory_mb() -> int:
    """Memory for the index rebuilds: an eighth of RAM, 1-4 GB (an HNSW build that does not
    fit slows down several times; 1 M x 384-d vectors need about 2 GB)."""
    return int(min(4096, max(1024, psutil.virtual_memory().total / 2**20 / 8)))
