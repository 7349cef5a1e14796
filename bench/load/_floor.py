"""The probe of an op: statements per request, their time inside PostgreSQL, and the SQL floor
(EXPLAIN ANALYZE of the op's main statement as the application role with the tenant set)."""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.dataset import BenchUser
from bench.load._http import Builder, send_requests
from bench.load._scenarios import run_cell_sync
from bench.load._statements import Statement, read_statements, set_statement_log

_SKIP_MAIN = re.compile(r"auth_resolve_token|set_config|^\s*(BEGIN|COMMIT|ROLLBACK)", re.I)


def measure_sql_floor(
    app_conninfo: str, user: BenchUser, statement: Statement, runs: int = 5
) -> tuple[float, dict[str, float]]:
    """Median execution time of EXPLAIN ANALYZE of `statement` as the app role and `user`
    (each run in a transaction that is rolled back, so a write leaves nothing behind), and
    the median time of each trigger it fired (included in the execution time)."""
    times = []
    triggers: dict[str, list[float]] = {}
    args = sql.SQL(", ").join(sql.Literal(v) for v in statement.params)
    query: sql.SQL | sql.Composed = sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE bench_floor")
    if statement.params:
        query = query + sql.SQL("({})").format(args)
    with psycopg.connect(app_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("PREPARE bench_floor AS {}").format(sql.SQL(statement.sql)))
        for _ in range(runs):
            with conn.transaction(force_rollback=True):
                conn.execute("SELECT set_config('diarist.user_id', %s, true)", (str(user.id),))
                row = conn.execute(query).fetchone()
                assert row is not None
                times.append(float(row[0][0]["Execution Time"]))
                for trigger in row[0][0].get("Triggers", []):
                    triggers.setdefault(trigger["Trigger Name"], []).append(trigger["Time"])
    fired = {name: round(statistics.median(ms), 3) for name, ms in triggers.items()}
    return statistics.median(times), fired


def probe_op(
    port: int,
    build: Builder,
    user: BenchUser,
    data_dir: Path,
    superuser: str,
    app_conninfo: str,
    requests: int = 20,
) -> dict[str, Any]:
    """Statements per request, their time inside PostgreSQL, and the floor of the main one."""
    run_cell_sync(port, build, [user], 1, 0, 1.5)  # warm: prepared statements, caches
    log = data_dir / "postgresql.log"
    set_statement_log(superuser, True)
    offset = log.stat().st_size
    try:
        send_requests(port, build, user, requests, seed=5)
    finally:
        set_statement_log(superuser, False)
    statements = read_statements(log, offset, "diarist-api")
    round_trips = [s for s in statements if s.kind in {"statement", "execute"}]
    result: dict[str, Any] = {
        "statements_per_request": round(len(round_trips) / requests, 2),
        "db_ms_per_request": round(sum(s.ms for s in statements) / requests, 3),
        "statements": sorted({_abbreviate_sql(s.sql) for s in round_trips}),
    }
    executes = [s for s in statements if s.kind == "execute" and not _SKIP_MAIN.search(s.sql)]
    if executes:
        by_sql: dict[str, list[Statement]] = {}
        for statement in executes:
            by_sql.setdefault(statement.sql, []).append(statement)
        main = max(by_sql.values(), key=lambda same: statistics.mean(s.ms for s in same))
        result["main_statement"] = _abbreviate_sql(main[0].sql)
        result["main_statement_logged_ms"] = round(statistics.median(s.ms for s in main), 3)
        try:
            floor, triggers = measure_sql_floor(app_conninfo, user, main[-1])
            result["sql_floor_ms"] = round(floor, 3)
            if triggers:
                result["sql_floor_triggers_ms"] = triggers
        except psycopg.Error as exc:
            result["sql_floor_error"] = str(exc).splitlines()[0]
    return result


def _abbreviate_sql(query: str) -> str:
    return " ".join(query.split())[:160]
