"""What the row audit trail costs a write (`python -m bench.audit`; part of `make bench`).

A throwaway embedded PostgreSQL, one user. An insert is what the API's create sends in its
writing round trip: BEGIN, the tenant, one INSERT of an entry (a few hundred words, so the
full-text, trigram and vocabulary triggers run too) and COMMIT, in one pipeline flush, as the
application role. Rounds alternate with the audit triggers on and off (ALTER TABLE ... DISABLE
TRIGGER as the owner) so that both see the same machine; the floor is the same insert without
them, measured in the same run. Also a bulk insert of 10,000 entries in one statement (an
import's shape: one audit INSERT per statement). Target (issue "Nothing lost"): the trigger
costs at most 20 % of the insert. Writes bench/results/audit-<time>.json and
audit-latest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench.cluster import migrated_cluster
from bench.report import machine, write_results
from diarist.db.provision import libpq_url

_WORDS = (
    "morning light over the river walked with the dog thought about work and about my "
    "sister who called yesterday the coffee was too strong again but the day felt long and "
)
_INSERT = (
    "INSERT INTO entries (user_id, title, raw_data, format, content, content_hash)"
    " VALUES (%(user)s, %(title)s, %(raw)s, 'markdown', %(content)s, %(hash)s)"
)
_BULK = """
    INSERT INTO entries (user_id, title, raw_data, format, content, content_hash)
    SELECT %(user)s, 'Day ' || g, jsonb_build_object('format', 'markdown', 'text', %(text)s || g),
           'markdown', %(text)s || g, sha256(convert_to(%(text)s || g, 'UTF8'))
    FROM generate_series(1, %(rows)s) g
"""
_TRIGGERS = ("entries_audit_insert", "entries_audit_update", "entries_audit_delete")


def _text(n: int) -> str:
    return f"Entry {n}. " + _WORDS * 4


def _inserts(conn: psycopg.Connection[Any], user: str, start: int, count: int) -> float:
    """Seconds for `count` inserts, each its own transaction in one flush."""
    began = time.perf_counter()
    for n in range(start, start + count):
        body = _text(n)
        params = {"user": user, "title": f"Day {n}", "content": body,
                  "raw": Jsonb({"format": "markdown", "text": body}),
                  "hash": hashlib.sha256(body.encode()).digest()}  # fmt: skip
        with conn.pipeline():
            conn.execute("BEGIN")
            conn.execute("SELECT set_config('diarist.user_id', %s, true)", (user,))
            conn.execute(_INSERT, params)
            conn.execute("COMMIT")
    return time.perf_counter() - began


def _switch(owner: psycopg.Connection[Any], on: bool) -> None:
    verb = "ENABLE" if on else "DISABLE"
    for trigger in _TRIGGERS:
        owner.execute(f"ALTER TABLE entries {verb} TRIGGER {trigger}")


def _bulk(conn: psycopg.Connection[Any], user: str, rows: int) -> float:
    began = time.perf_counter()
    with conn.transaction():
        conn.execute("SELECT set_config('diarist.user_id', %s, true)", (user,))
        conn.execute(_BULK, {"user": user, "text": _WORDS * 4, "rows": rows})
    return time.perf_counter() - began


def _measure(rounds: int, per_round: int, bulk_rows: int) -> dict[str, Any]:
    with migrated_cluster() as cluster:
        urls = cluster.urls
        with (
            psycopg.connect(libpq_url(urls.owner), autocommit=True) as owner,
            psycopg.connect(libpq_url(urls.app), autocommit=True) as app,
        ):
            found = owner.execute(
                "INSERT INTO users (email_sealed, email_index, name)"
                " VALUES ('\\x01', '\\x02', 'Bench') RETURNING id"
            ).fetchone()
            assert found is not None
            user = str(found[0])
            _inserts(app, user, 0, per_round)  # warm: plans, caches
            with_audit: list[float] = []
            without: list[float] = []
            n = per_round
            for _ in range(rounds):
                for on in (True, False):
                    _switch(owner, on)
                    took = _inserts(app, user, n, per_round)
                    n += per_round
                    (with_audit if on else without).append(took / per_round * 1e6)
            _switch(owner, False)
            bulk_without = _bulk(app, user, bulk_rows)
            _switch(owner, True)
            bulk_with = _bulk(app, user, bulk_rows)
            audit_rows = owner.execute("SELECT count(*) FROM audit_log").fetchone()
            leaked = owner.execute(
                "SELECT count(*) FROM audit_log WHERE new_values::text LIKE '%morning light%'"
            ).fetchone()
    insert_us = statistics.median(with_audit)
    floor_us = statistics.median(without)
    return {
        "rounds": rounds,
        "inserts_per_round": per_round,
        "insert_with_audit_us": round(insert_us, 1),
        "insert_floor_us": round(floor_us, 1),
        "audit_cost_ratio": round(insert_us / floor_us - 1, 3),
        "rounds_with_us": [round(x, 1) for x in with_audit],
        "rounds_without_us": [round(x, 1) for x in without],
        "bulk_rows": bulk_rows,
        "bulk_with_audit_s": round(bulk_with, 3),
        "bulk_floor_s": round(bulk_without, 3),
        "bulk_cost_ratio": round(bulk_with / bulk_without - 1, 3),
        "audit_rows": audit_rows[0] if audit_rows else None,
        "diary_text_in_audit": leaked[0] if leaked else None,
        "target_ratio": 0.2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=500)
    parser.add_argument("--bulk-rows", type=int, default=10_000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = _measure(args.rounds, args.per_round, args.bulk_rows)
    report = {"bench": "audit", "machine": machine(), "load_average_at_start": load, **result}
    print(write_results(report, "audit", "audit-latest"))
    print(json.dumps({k: v for k, v in result.items() if not k.startswith("rounds_")}))


if __name__ == "__main__":
    main()
