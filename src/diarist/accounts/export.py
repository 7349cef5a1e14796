"""GDPR export: every row the user owns, from every user-owned table, streamed as JSON.

The tables are found from the models (users by `id`, every other table by `user_id`), so a
later domain's tables are exported without touching this module; a test holds the catalog to it.
Personal data sealed at rest is exported opened, under its own name (`email`, not
`email_sealed`).
"""

from __future__ import annotations

import json
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table, select

from diarist.accounts.personal_data import SEALED_COLUMNS, PersonalData
from diarist.db.engine import Database
from diarist.kit.zipping import MemberWriter
from diarist.models import Base

# Never exported: hashes that would only help an attacker, and derived internals that mean
# nothing to the user (the text is exported as the raw_data it was written as).
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "code_hash", "secret"})
INTERNAL_COLUMNS = frozenset({"content_hash", "idempotency_hash", "search_vector", "email_index"})
_ZIP_MEMORY = 16 * 1024 * 1024
_CHUNK = 64 * 1024


def user_owned_tables() -> list[tuple[Table, Column[Any]]]:
    """(table, owner column) for every table that holds a user's rows."""
    found: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        if table.name == "users":
            found.append((table, table.c.id))
        elif "user_id" in table.c:
            found.append((table, table.c.user_id))
    return found


def _default(value: object) -> object:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot export {type(value).__name__}")


def _dumps(value: object) -> bytes:
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":")).encode()


def _opener(table: Table, personal: PersonalData) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """What turns a row of `table` into its exported form: its sealed values opened."""
    sealed = {
        column.name: SEALED_COLUMNS[(table.name, column.name)]
        for column in table.c
        if (table.name, column.name) in SEALED_COLUMNS
    }

    def opened(row: dict[str, Any]) -> dict[str, Any]:
        for column, (name, purpose) in sealed.items():
            row[name] = personal.open_optional(purpose, row.pop(column))
        return row

    return opened


async def json_chunks(
    database: Database, user_id: uuid.UUID, personal: PersonalData
) -> AsyncIterator[bytes]:
    """The export document, piece by piece, read in its own transaction as the user."""
    header = {
        "format": "diarist-export",
        "version": 1,
        "exported_at": datetime.now(UTC),
        "user_id": user_id,
    }
    async with database.unit_of_work(user_id=user_id) as session:
        yield _dumps(header)[:-1] + b',"tables":{'
        for index, (table, owner) in enumerate(user_owned_tables()):
            columns = [
                column for column in table.c if column.name not in SECRET_COLUMNS | INTERNAL_COLUMNS
            ]
            opened = _opener(table, personal)
            yield (b"," if index else b"") + _dumps(table.name) + b":["
            query = select(*columns).where(owner == user_id).order_by(*table.primary_key.columns)
            result = await session.stream(query)
            first = True
            async for rows in result.mappings().partitions(500):
                for row in rows:
                    yield (b"" if first else b",") + _dumps(opened(dict(row)))
                    first = False
            yield b"]"
        yield b"}}"


# A domain's files for the archive (attachments' bytes), by name: handed over by the app,
# since accounts sits below every domain that keeps files.
FilesOf = Callable[[Database, uuid.UUID], AsyncIterator[tuple[str, AsyncIterator[bytes]]]]


async def zip_chunks(
    database: Database, user_id: uuid.UUID, personal: PersonalData, files: FilesOf | None = None
) -> AsyncIterator[bytes]:
    """The same document as `export.json` inside a zip archive, with the user's `files`."""
    with tempfile.SpooledTemporaryFile(max_size=_ZIP_MEMORY) as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open("export.json", "w") as opened:
                member = MemberWriter(opened)
                async for chunk in json_chunks(database, user_id, personal):
                    await member.write(chunk)
                await member.flush()
            async for name, chunks in files(database, user_id) if files else _nothing():
                # Stored, not deflated: photos and video are compressed already.
                with archive.open(zipfile.ZipInfo(name), "w", force_zip64=True) as opened:
                    member = MemberWriter(opened)
                    async for chunk in chunks:
                        await member.write(chunk)
                    await member.flush()
        buffer.seek(0)
        while chunk := buffer.read(_CHUNK):
            yield chunk


async def _nothing() -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
    return
    yield
