"""Leaving diarist: the journal exported as Day One and as Markdown notes, and imported again
into a fresh account, gives back the same entries."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from diarist.config import JournalSettings
from diarist.db.engine import Database
from diarist.imports import service as imports_service
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import create_entry

FIXTURES = Path(__file__).parent / "fixtures"
# What an entry is, for comparing two accounts' journals (ids and bookkeeping aside).
_SAME = ("title", "raw_data", "entry_date", "timezone", "tags", "starred", "pinned",
         "mood_rating", "entry_type", "visibility", "metadata")  # fmt: skip


async def _journal(client: httpx.AsyncClient, me: Account) -> list[dict[str, Any]]:
    page = await client.get("/api/v1/entries", params={"limit": 100}, headers=me.auth)
    ids = [item["id"] for item in reversed(page.json()["items"])]
    full = [(await client.get(f"/api/v1/entries/{i}", headers=me.auth)).json() for i in ids]
    return [{key: entry[key] for key in _SAME} | {"tags": sorted(entry["tags"])} for entry in full]


async def _filled(client: httpx.AsyncClient, database: Database) -> Account:
    """An account with a Day One journal imported and an entry written in diarist."""
    me = await signed_up(client)
    await imports_service.import_file(
        database, await user_id_of(client, me), "dayone", FIXTURES / "Travel Journal.json",
        JournalSettings(), max_file_bytes=1 << 30,
    )  # fmt: skip
    where = {"weather": "rain", "location": {"lat": 1.5, "lng": 2.5}}
    await create_entry(client, me.auth, "Wrote this one *here*.", title="Native",
                       tags=["home"], mood_rating=7, metadata=where)  # fmt: skip
    return me


async def _export(client: httpx.AsyncClient, me: Account, fmt: str, tmp_path: Path) -> Path:
    response = await client.get("/api/v1/me/export", params={"format": fmt}, headers=me.auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    path = tmp_path / f"{fmt}.zip"
    path.write_bytes(response.content)
    return path


async def test_day_one_round_trip(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    me = await _filled(client, database)
    archive = await _export(client, me, "dayone", tmp_path)
    with zipfile.ZipFile(archive) as opened:
        document = json.loads(opened.read("Journal.json"))
    tram = next(e for e in document["entries"] if e["uuid"] == "3C1A7E2F9B8D4A6C8E0F1A2B3C4D5E6F")
    assert tram["weather"]["temperatureCelsius"] == 18.5, "Day One's own fields go back"
    assert tram["modifiedDate"] == "2023-06-15T20:01:00Z", "unedited: Day One's own date"
    native = next(e for e in document["entries"] if e["text"].startswith("# Native"))
    assert native["diarist"]["mood_rating"] == 7

    again = await signed_up(client)
    report = await imports_service.import_file(
        database, await user_id_of(client, again), "dayone", archive, JournalSettings(),
        max_file_bytes=1 << 30,
    )  # fmt: skip
    assert (report.created, report.failed) == (4, 0)
    mine, theirs = await _journal(client, me), await _journal(client, again)
    for a, b in zip(mine, theirs, strict=True):
        for key in _SAME:
            assert b[key] == a[key], (key, a[key], b[key])


async def test_markdown_round_trip(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    me = await _filled(client, database)
    archive = await _export(client, me, "markdown", tmp_path)
    with zipfile.ZipFile(archive) as opened:
        names = sorted(opened.namelist())
        note = opened.read(next(n for n in names if "Native" in n)).decode()
    assert names[0].startswith("2023/2023-06-14 Tram 28 at dawn")
    assert note.endswith("---\nWrote this one *here*.")
    assert "mood: 7" in note

    again = await signed_up(client)
    report = await imports_service.import_file(
        database, await user_id_of(client, again), "markdown", archive, JournalSettings(),
        max_file_bytes=1 << 30,
    )  # fmt: skip
    assert (report.created, report.failed) == (4, 0)
    mine, theirs = await _journal(client, me), await _journal(client, again)
    # Markdown keeps what a note can: text, title, date and zone, tags, stars, mood.
    for key in ("title", "raw_data", "entry_date", "timezone", "tags", "starred", "pinned",
                "mood_rating"):  # fmt: skip
        assert [entry[key] for entry in theirs] == [entry[key] for entry in mine], key


@pytest.mark.parametrize("fmt", ["dayone", "markdown"])
async def test_an_empty_journal_exports_an_empty_archive(
    client: httpx.AsyncClient, fmt: str
) -> None:
    me = await signed_up(client)
    response = await client.get("/api/v1/me/export", params={"format": fmt}, headers=me.auth)
    with zipfile.ZipFile(io.BytesIO(response.content)) as opened:
        if fmt == "dayone":
            assert json.loads(opened.read("Journal.json"))["entries"] == []
        else:
            assert opened.namelist() == []
