"""Leaving diarist: the journal exported as Day One and as Markdown notes, and imported again
into a fresh account, gives back the same entries."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from diarist.attachments.service import Attaching
from diarist.config import JournalSettings, Settings
from diarist.db.engine import Database
from diarist.imports import service as imports_service
from tests.factories import media
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


async def _filled(client: httpx.AsyncClient, database: Database, settings: Settings) -> Account:
    """An account with a Day One journal imported (a photo with it) and an entry written in
    diarist with a photo and a PDF attached."""
    me = await signed_up(client)
    photo = media.jpeg(gps=True)
    with zipfile.ZipFile(settings.data_dir / "dayone.zip", "w") as archive:
        archive.writestr("Travel Journal.json", _with_photo_of(photo))
        archive.writestr(f"photos/{_md5(photo)}.jpeg", photo)
    await imports_service.import_file(
        database, await user_id_of(client, me), "dayone", settings.data_dir / "dayone.zip",
        JournalSettings(), max_file_bytes=1 << 30, attaching=_attaching(settings),
    )  # fmt: skip
    where = {"weather": "rain", "location": {"lat": 1.5, "lng": 2.5}}
    native = await create_entry(client, me.auth, "Wrote this one *here*.", title="Native",
                                tags=["home"], mood_rating=7, metadata=where)  # fmt: skip
    for name, data in (("me.png", media.png()), ("notes.pdf", media.pdf())):
        attached = await client.post(
            "/api/v1/attachments", files={"file": (name, data)},
            data={"entry_id": native["id"]}, headers=me.auth,
        )  # fmt: skip
        assert attached.status_code == 201, attached.text
        reference = attached.json()["markdown"]
        text = f"Wrote this one *here*.\n\n{reference}" if name == "me.png" else None
        if text:
            changed = await client.patch(
                f"/api/v1/entries/{native['id']}", headers=me.auth,
                json={"raw_data": {"format": "markdown", "text": text}},
            )  # fmt: skip
            assert changed.status_code == 200, changed.text
    return me


_LINK = re.compile(r"\]\((?:attachment:|dayone-moment://|\.\./attachments/)[^)]+\)")


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _with_photo_of(photo: bytes) -> str:
    """The Day One fixture, its first entry's photo being `photo`."""
    document = json.loads((FIXTURES / "Travel Journal.json").read_text())
    document["entries"][0]["photos"][0]["md5"] = _md5(photo)
    return json.dumps(document)


def _attaching(settings: Settings) -> Attaching:
    return Attaching.of(settings.attachments, settings.data_dir)


async def _files(client: httpx.AsyncClient, me: Account) -> list[tuple[str, str, bytes]]:
    """(kind, name, original bytes) of every attachment, sorted."""
    found = []
    for attachment in (await client.get("/api/v1/attachments", headers=me.auth)).json():
        await client.patch(f"/api/v1/attachments/{attachment['id']}",
                           json={"keep_location": True}, headers=me.auth)  # fmt: skip
        data = (await client.get(attachment["content_url"], headers=me.auth)).content
        found.append((attachment["kind"], attachment["media_type"], data))
    return sorted(found)


async def _export(client: httpx.AsyncClient, me: Account, fmt: str, tmp_path: Path) -> Path:
    response = await client.get("/api/v1/me/export", params={"format": fmt}, headers=me.auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    path = tmp_path / f"{fmt}.zip"
    path.write_bytes(response.content)
    return path


async def test_day_one_round_trip(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    me = await _filled(client, database, settings)
    archive = await _export(client, me, "dayone", tmp_path)
    with zipfile.ZipFile(archive) as opened:
        document = json.loads(opened.read("Journal.json"))
    tram = next(e for e in document["entries"] if e["uuid"] == "3C1A7E2F9B8D4A6C8E0F1A2B3C4D5E6F")
    assert tram["weather"]["temperatureCelsius"] == 18.5, "Day One's own fields go back"
    assert tram["modifiedDate"] == "2023-06-15T20:01:00Z", "unedited: Day One's own date"
    native = next(e for e in document["entries"] if e["text"].startswith("# Native"))
    assert native["diarist"]["mood_rating"] == 7
    assert [p["type"] for p in native["photos"]] == ["png"]
    assert [p["type"] for p in native["pdfAttachments"]] == ["pdf"]
    assert tram["photos"][0]["identifier"] == "9F00A1B2C3D4E5F60718293A4B5C6D7E"

    again = await signed_up(client)
    report = await imports_service.import_file(
        database, await user_id_of(client, again), "dayone", archive, JournalSettings(),
        max_file_bytes=1 << 30, attaching=_attaching(settings),
    )  # fmt: skip
    assert (report.created, report.failed, report.attached) == (4, 0, 3)
    mine, theirs = await _journal(client, me), await _journal(client, again)
    for a, b in zip(mine, theirs, strict=True):
        for key in _SAME:
            assert b[key] == a[key], (key, a[key], b[key])
    assert await _files(client, again) == await _files(client, me), "the same bytes"
    # The text names a native photo by its id; the re-imported one keeps that id as its source.
    ids = {
        a["source_id"] for a in (await client.get("/api/v1/attachments", headers=again.auth)).json()
    }
    text = next(e["raw_data"]["text"] for e in theirs if e["title"] == "Native")
    assert any(f"attachment:{i}" in text for i in ids)


async def test_markdown_round_trip(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    me = await _filled(client, database, settings)
    archive = await _export(client, me, "markdown", tmp_path)
    with zipfile.ZipFile(archive) as opened:
        names = sorted(opened.namelist())
        note = opened.read(next(n for n in names if "Native" in n)).decode()
        files = {n: opened.read(n) for n in names if n.startswith("attachments/")}
    assert names[0].startswith("2023/2023-06-14 Tram 28 at dawn")
    png = next(n for n in files if n.endswith("/me.png"))
    assert note.endswith(f"---\nWrote this one *here*.\n\n![me.png](../{png})")
    assert files[png] == media.png()
    assert len(files) == 3, "the Day One photo, the PNG and the PDF, beside the notes"
    assert "mood: 7" in note

    again = await signed_up(client)
    report = await imports_service.import_file(
        database, await user_id_of(client, again), "markdown", archive, JournalSettings(),
        max_file_bytes=1 << 30, attaching=_attaching(settings),
    )  # fmt: skip
    assert (report.created, report.failed, report.attached) == (4, 0, 3)
    assert await _files(client, again) == await _files(client, me), "the same bytes"
    mine, theirs = await _journal(client, me), await _journal(client, again)
    links = [_LINK.search(e["raw_data"]["text"]) for e in theirs]
    assert sum(1 for link in links if link) == 2
    for entry in mine + theirs:  # a note's links to files point at the files beside it now
        entry["raw_data"]["text"] = _LINK.sub("](link)", entry["raw_data"]["text"])
    # Markdown keeps what a note can: text, title, date and zone, tags, stars, mood.
    for key in ("title", "raw_data", "entry_date", "timezone", "tags", "starred", "pinned",
                "mood_rating"):  # fmt: skip
        assert [entry[key] for entry in theirs] == [entry[key] for entry in mine], key


async def test_diarist_export_round_trip(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    me = await _filled(client, database, settings)
    trashed = await create_entry(client, me.auth, "Thrown away.")
    await client.delete(f"/api/v1/entries/{trashed['id']}", headers=me.auth)
    archive = await _export(client, me, "zip", tmp_path)
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    assert names[0] == "export.json"
    assert len([n for n in names if n.startswith("attachments/")]) == 3

    again = await signed_up(client)
    again_id = await user_id_of(client, again)

    async def load(path: Path) -> imports_service.ImportReport:
        return await imports_service.import_file(
            database, again_id, "diarist", path, JournalSettings(), max_file_bytes=1 << 30,
            attaching=_attaching(settings),
        )  # fmt: skip

    report = await load(archive)
    assert (report.created, report.failed, report.attached) == (4, 0, 3), report.failures
    mine, theirs = await _journal(client, me), await _journal(client, again)
    for a, b in zip(mine, theirs, strict=True):
        for key in _SAME:
            assert b[key] == a[key], (key, a[key], b[key])
    assert await _files(client, again) == await _files(client, me), "the same bytes"
    theirs_files = (await client.get("/api/v1/attachments", headers=again.auth)).json()
    mine_files = (await client.get("/api/v1/attachments", headers=me.auth)).json()
    assert {a["source_id"] for a in theirs_files} == {a["id"] for a in mine_files}
    assert sorted(str(a["metadata"]) for a in theirs_files) == sorted(
        str(a["metadata"]) for a in mine_files
    )
    again_report = await load(archive)
    assert (again_report.created, again_report.unchanged, again_report.attached) == (0, 4, 0)

    # Into the account it came from (a backup restored): nothing is duplicated.
    me_id = await user_id_of(client, me)
    mine_report = await imports_service.import_file(
        database, me_id, "diarist", archive, JournalSettings(), max_file_bytes=1 << 30,
        attaching=_attaching(settings),
    )  # fmt: skip
    assert (mine_report.created, mine_report.unchanged, mine_report.attached) == (0, 4, 0)
    assert len((await client.get("/api/v1/attachments", headers=me.auth)).json()) == 3


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
