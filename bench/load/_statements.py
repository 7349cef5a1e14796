"""The statements a request costs, from the PostgreSQL log: logging every statement on and off,
and reading what one application logged since a point in the log."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

_RECORD = re.compile(r"^@@(\d+)\|([^|]*)\|(\w+):  (.*)$")
_DURATION = re.compile(
    r"duration: ([\d.]+) ms  (statement|parse|bind|execute)( [^:]*)?: (.*)$", re.S
)


@dataclass
class Statement:
    kind: str
    ms: float
    sql: str
    params: list[str | None] = field(default_factory=list)


def parse_params(text: str) -> list[str | None]:
    """`$1 = 'a''b', $2 = NULL` -> ["a'b", None] (values as PostgreSQL logged them)."""
    values: list[str | None] = []
    i = 0
    while (found := text.find("= ", i)) >= 0:
        i = found + 2
        if text.startswith("NULL", i):
            values.append(None)
            i += 4
            continue
        assert text[i] == "'"
        i += 1
        chars = []
        while True:
            if text[i] == "'":
                if text.startswith("''", i):
                    chars.append("'")
                    i += 2
                    continue
                i += 1
                break
            chars.append(text[i])
            i += 1
        values.append("".join(chars))
    return values


def read_statements(log: Path, offset: int, application: str) -> list[Statement]:
    """Statements logged (log_min_duration_statement = 0) since `offset` by `application`."""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    records: list[tuple[str, str, str, str]] = []
    for line in text.split("\n"):
        found = _RECORD.match(line)
        if found:
            pid, app, level, message = found.groups()
            records.append((pid, app, level, message))
        elif records and line.startswith("\t"):
            pid, app, level, message = records[-1]
            records[-1] = (pid, app, level, message + "\n" + line[1:])
    statements: list[Statement] = []
    last: dict[str, Statement] = {}
    for pid, app, level, message in records:
        if app != application:
            continue
        if level == "LOG" and (found := _DURATION.match(message)):
            ms, kind, _, query = found.groups()
            statement = Statement(kind, float(ms), query.strip())
            statements.append(statement)
            last[pid] = statement
        elif level == "DETAIL" and message.lower().startswith("parameters: ") and pid in last:
            last[pid].params = parse_params(message[len("parameters: ") :])
    return statements


def set_statement_log(superuser: str, on: bool) -> None:
    with psycopg.connect(superuser, autocommit=True) as conn:
        if on:
            conn.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
            conn.execute("ALTER SYSTEM SET log_line_prefix = '@@%p|%a|'")
            conn.execute("ALTER SYSTEM SET log_parameter_max_length = -1")
        else:
            conn.execute("ALTER SYSTEM RESET log_min_duration_statement")
        conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)
