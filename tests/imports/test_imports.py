"""Imports from Day One, jrnl and Markdown folders into a real journal: what each field becomes,
re-running, dry runs and bad files. Fixtures are our own (fixtures/); the other tools' real
sample files are read too when ../shared/samples is present."""

from __future__ import annotations

import asyncio
import io
import json
import plistlib
import shutil
import tarfile
import threading
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from diarist.analysis import service as analysis_service
from diarist.config import JournalSettings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.errors import DiaristError
from diarist.imports import service as imports_service
from diarist.imports.errors import ImportTooLarge, InvalidImportFile
from diarist.imports.service import ImportReport
from diarist.imports.sources import SourceRecord
from diarist.journal import bulk
from tests.conftest import make_settings
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import user_with_entries

FIXTURES = Path(__file__).parent / "fixtures"
DAYONE = FIXTURES / "Travel Journal.json"
SAMPLES = Path(__file__).parents[3] / "shared" / "samples"
LIMIT = 64 * 1024 * 1024


async def _import(
    database: Database, user_id: uuid.UUID, fmt: str, path: Path, **options: Any
) -> ImportReport:
    return await imports_service.import_file(
        database, user_id, fmt, path, JournalSettings(), max_file_bytes=LIMIT, **options
    )


async def _me(client: httpx.AsyncClient) -> tuple[Account, uuid.UUID]:
    me = await signed_up(client)
    return me, await user_id_of(client, me)


async def _entries(client: httpx.AsyncClient, me: Account) -> list[dict[str, Any]]:
    """Every entry in full, oldest first."""
    page = await client.get("/api/v1/entries", params={"limit": 100}, headers=me.auth)
    assert page.status_code == 200, page.text
    ids = [item["id"] for item in reversed(page.json()["items"])]
    return [(await client.get(f"/api/v1/entries/{i}", headers=me.auth)).json() for i in ids]


async def test_day_one_every_field_lands_somewhere(
    client: httpx.AsyncClient, database: Database
) -> None:
    me, user_id = await _me(client)
    report = await _import(database, user_id, "dayone", DAYONE)
    assert (report.created, report.failed) == (3, 1)
    assert report.failures == [{"id": "#3", "reason": "the entry has no uuid"}]
    tram, fado, train = await _entries(client, me)

    # Columns: title from the heading, Markdown text as written, the moment and its zone.
    assert tram["title"] == "Tram 28 at dawn"
    assert tram["raw_data"]["text"].startswith("# Tram 28 at dawn\n\nThe yellow tram")
    assert tram["entry_date"] == "2023-06-14T07:42:10Z"  # shown in UTC, its zone beside
    assert tram["timezone"] == "Europe/Lisbon"
    assert sorted(tram["tags"]) == ["Lisbon", "travel"]
    assert (tram["starred"], tram["pinned"]) == (True, True)
    # Everything else: the place as diarist's location, the rest as Day One had it.
    meta = tram["metadata"]
    assert meta["source"] == "dayone"
    assert meta["location"] == {
        "lat": 38.7139, "lng": -9.1334,
        "name": "Miradouro da Graça, Lisbon, Portugal",
    }  # fmt: skip
    kept = meta["dayone"]
    assert kept["journal"] == "Travel Journal"
    assert kept["weather"]["temperatureCelsius"] == 18.5
    assert kept["photos"][0]["md5"] == "0cc175b9c0f1b6a831c399e269772661"
    for field in ("modifiedDate", "isAllDay", "duration", "editingTime", "creationDevice",
                  "creationDeviceType", "creationDeviceModel", "creationOSName",
                  "creationOSVersion", "location", "userActivity", "richText"):  # fmt: skip
        assert field in kept, field

    # richText alone gives the text; a zone Day One wrote that no one knows is kept aside.
    assert fado["raw_data"]["text"] == "Fado in Alfama, late and loud."
    assert fado["title"] is None
    assert train["timezone"] != "GMT+0100"
    assert train["metadata"]["dayone"]["timeZone"] == "GMT+0100"


async def test_importing_again_updates_what_changed_and_nothing_else(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    me, user_id = await _me(client)
    await _import(database, user_id, "dayone", DAYONE)
    again = await _import(database, user_id, "dayone", DAYONE)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 3, 1)

    export = json.loads(DAYONE.read_text())
    export["entries"][2]["text"] = "Train to Porto, then a boat."
    export["entries"][2]["tags"] = ["boats"]
    changed = tmp_path / "Travel Journal.json"
    changed.write_text(json.dumps(export))
    report = await _import(database, user_id, "dayone", changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    train = (await _entries(client, me))[2]
    assert train["raw_data"]["text"] == "Train to Porto, then a boat."
    assert (train["tags"], train["version"]) == (["boats"], 2)
    earlier = await client.get(f"/api/v1/entries/{train['id']}/revisions", headers=me.auth)
    assert earlier.json()[0]["raw_data"]["text"] == "Train to Porto."

    # An entry the user put in the trash stays there.
    assert (
        await client.delete(f"/api/v1/entries/{train['id']}", headers=me.auth)
    ).status_code == 204
    export["entries"][2]["text"] = "Changed once more."
    changed.write_text(json.dumps(export))
    report = await _import(database, user_id, "dayone", changed)
    assert (report.created, report.updated) == (0, 0)
    assert len(await _entries(client, me)) == 2


async def test_dry_run_writes_nothing(client: httpx.AsyncClient, database: Database) -> None:
    me, user_id = await _me(client)
    report = await _import(database, user_id, "dayone", DAYONE, dry_run=True)
    assert (report.created, report.failed, report.dry_run) == (3, 1, True)
    assert await _entries(client, me) == []


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


async def test_day_one_zip_with_media_folders(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    me, user_id = await _me(client)
    archive = _zip(tmp_path / "export.zip", {
        "Travel Journal.json": DAYONE.read_bytes(),
        "photos/0cc175b9c0f1b6a831c399e269772661.jpeg": b"\xff\xd8\xff",
    })  # fmt: skip
    report = await _import(database, user_id, "dayone", archive)
    assert (report.created, report.failed) == (3, 1)
    assert len(await _entries(client, me)) == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("truncated zip", InvalidImportFile),
        ("zip bomb", ImportTooLarge),
        ("path traversal", InvalidImportFile),
        ("absolute path", InvalidImportFile),
        ("no journal inside", InvalidImportFile),
        ("not JSON", InvalidImportFile),
        ("JSON cut short", InvalidImportFile),
        ("not UTF-8", InvalidImportFile),
        ("no entries", InvalidImportFile),
    ],
)
async def test_bad_day_one_files_are_refused_whole(
    client: httpx.AsyncClient, database: Database, tmp_path: Path, name: str,
    expected: type[DiaristError],
) -> None:  # fmt: skip
    me, user_id = await _me(client)
    good = DAYONE.read_bytes()
    path = tmp_path / "bad.zip"
    if name == "truncated zip":
        whole = _zip(tmp_path / "whole.zip", {"Travel Journal.json": good}).read_bytes()
        path.write_bytes(whole[: len(whole) // 2] + whole[-22:])  # the directory, not the data
    elif name == "zip bomb":
        _zip(path, {"bomb.json": b"[" + b" " * (LIMIT + 1) + b"]"})
    elif name == "path traversal":
        _zip(path, {"../escape.json": good})
    elif name == "absolute path":
        _zip(path, {"/etc/escape.json": good})
    elif name == "no journal inside":
        _zip(path, {"photos/a.jpeg": b"\xff\xd8"})
    else:
        path = tmp_path / "bad.json"
        body = {"not JSON": b"<html>hello</html>", "JSON cut short": good[: len(good) // 2],
                "not UTF-8": '{"entries": [{"uuid": "é"}]}'.encode("latin-1"),
                "no entries": b'{"metadata": {}}'}[name]  # fmt: skip
        path.write_bytes(body)
    if name == "zip bomb":
        assert path.stat().st_size < 1024 * 1024, "the archive is small, its content is not"
    with pytest.raises(expected):
        await _import(database, user_id, "dayone", path)
    assert await _entries(client, me) == []


async def test_jrnl_text(client: httpx.AsyncClient, database: Database, tmp_path: Path) -> None:
    me, user_id = await _me(client)
    report = await _import(database, user_id, "jrnl", FIXTURES / "journal.txt")
    assert (report.created, report.failed) == (3, 0)
    coffee, second, run = await _entries(client, me)
    assert coffee["title"] == "Coffee on the balcony."
    assert (
        coffee["raw_data"]["text"]
        == "The @garden is waking up.\nPlanted basil and @tomatoes today."
    )
    assert sorted(coffee["tags"]) == ["garden", "tomatoes"]
    assert coffee["entry_date"].startswith("2024-03-01T08:15:00")
    assert (second["title"], second["starred"]) == ("Second entry of the same minute", True)
    # Lines that only look like a date stay in the entry above them.
    assert "[1] a line that looks like a date" in second["raw_data"]["text"]
    assert "[2024-03 09:00] neither is this" in second["raw_data"]["text"]
    assert (run["title"], run["tags"]) == ("Evening run!", ["running-club"])
    assert run["entry_date"].startswith("2024-03-02T19:05:00")

    latin = tmp_path / "latin.txt"
    latin.write_bytes("[2024-01-01 10:00] Café".encode("latin-1"))
    with pytest.raises(InvalidImportFile):
        await _import(database, user_id, "jrnl", latin)
    stray = tmp_path / "stray.txt"
    stray.write_text("No date at the top.\n[2024-01-01 10:00] Then one.")
    with pytest.raises(InvalidImportFile):
        await _import(database, user_id, "jrnl", stray)


async def test_jrnl_json_and_text_are_one_source(
    client: httpx.AsyncClient, database: Database
) -> None:
    me, user_id = await _me(client)
    await _import(database, user_id, "jrnl", FIXTURES / "journal.txt")
    report = await _import(database, user_id, "jrnl-json", FIXTURES / "jrnl-export.json")
    # The first entry is the text file's first one (same minute, same place): updated, not
    # duplicated; the rain is new; the bad date fails alone.
    assert (report.created, report.updated, report.failed) == (1, 1, 1)
    assert report.failures[0]["reason"] == "the entry has no valid date and time"
    titles = [entry["title"] for entry in await _entries(client, me)]
    assert titles == ["Coffee on the balcony.", "Second entry of the same minute",
                      "Evening run!", "Rain all day."]  # fmt: skip
    rain = (await _entries(client, me))[3]
    assert (rain["starred"], rain["metadata"]["jrnl"]) == (True, {"location": "home"})


async def test_markdown_folder(client: httpx.AsyncClient, database: Database) -> None:
    me, user_id = await _me(client)
    report = await _import(database, user_id, "markdown", FIXTURES / "notes")
    assert (report.created, report.failed) == (2, 1)
    assert report.failures == [{"id": "broken.md", "reason": "the front matter is not valid YAML"}]
    harbour, daily = await _entries(client, me)
    assert harbour["title"] == "The harbour at low tide"
    assert harbour["entry_date"].startswith("2024-05-01T16:30:00")  # 18:30+02:00, shown in UTC
    assert (sorted(harbour["tags"]), harbour["starred"]) == (["sea", "walks"], True)
    assert harbour["raw_data"]["text"] == "Boats resting on the mud. See [[Tides]] for why.\n"
    assert harbour["metadata"] == {
        "source": "markdown", "file": "2024/harbour.md",
        "front_matter": {"mood": "calm", "people": ["Ana"]},
    }  # fmt: skip
    assert daily["title"] == "A daily note"
    assert daily["entry_date"].startswith("2024-05-02")


async def test_an_entry_the_journal_refuses_fails_alone(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    me, user_id = await _me(client)
    export = {"entries": [
        {"uuid": "A", "creationDate": "2024-01-01T10:00:00Z", "text": "fine"},
        {"uuid": "B", "creationDate": "2024-01-01T11:00:00Z", "text": "x" * (2 * 1024 * 1024)},
        {"uuid": "C", "creationDate": "2024-01-01T12:00:00Z", "text": "ok", "tags": [" "]},
        {"uuid": "D", "creationDate": "the fifth of May", "text": "when?"},
        {"uuid": "A", "creationDate": "2024-01-01T13:00:00Z", "text": "same id again"},
        {"uuid": "E", "creationDate": "2024-01-01T14:00:00Z", "text": "odd", "timeZone": [1]},
    ]}  # fmt: skip
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(export))
    report = await _import(database, user_id, "dayone", path)
    assert report.created == 2, "a zone that is not even text is kept aside, not fatal"
    reasons = {failure["id"]: failure["reason"] for failure in report.failures}
    assert set(reasons) == {"B", "C", "D", "A"}
    assert "limit" in reasons["B"]
    assert reasons["C"].startswith("tags")
    assert reasons["D"].startswith("entry_date")
    assert reasons["A"] == "the file holds another entry with this id"
    assert [entry["raw_data"]["text"] for entry in await _entries(client, me)] == ["fine", "odd"]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not on this machine")
async def test_the_other_tools_real_samples(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    _me_account, user_id = await _me(client)
    for path in sorted((SAMPLES / "dayone").glob("*")):
        report = await _import(database, user_id, "dayone", path)
        assert report.failed == 0, (path.name, report.failures)
        assert report.created + report.unchanged > 0
    report = await _import(database, user_id, "dayone-classic", SAMPLES / "jrnl" / "dayone-classic")
    assert (report.failed, report.created > 0) == (0, True), report.failures
    for path in sorted((SAMPLES / "jrnl").glob("*.journal")):
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        report = await _import(database, user_id, "jrnl", copy)
        assert report.failed == 0, (path.name, report.failures)
        assert report.created > 0, path.name


def _doentry(folder: Path, uid: str, **fields: Any) -> None:
    entry = {"UUID": uid, "Creation Date": datetime(2014, 2, 3, 7, 30), "Starred": False,
             "Tags": [], "Time Zone": "America/Los_Angeles"} | fields  # fmt: skip
    (folder / f"{uid}.doentry").write_bytes(plistlib.dumps(entry))


async def test_day_one_classic_and_its_json_export_are_one_source(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    me, user_id = await _me(client)
    entries = tmp_path / "Journal.dayone" / "entries"
    entries.mkdir(parents=True)
    _doentry(entries, "AAAA0001", **{
        "Entry Text": "# Pier\n\nFog on the pier.", "Tags": ["sea"], "Starred": True,
        "Location": {"Latitude": 37.8, "Longitude": -122.4, "Place Name": "Pier 39",
                     "Country": "United States"},
        "Weather": {"Celsius": "14", "Description": "Fog"},
        "Creator": {"Software Agent": "Day One (Mac)/1.8",
                    "Generation Date": datetime(2014, 2, 4)},
    })  # fmt: skip
    _doentry(entries, "AAAA0002", **{"Entry Text": "Plain day."})
    (entries / "broken.doentry").write_bytes(b"not a plist")
    report = await _import(database, user_id, "dayone-classic", tmp_path / "Journal.dayone")
    assert (report.created, report.failed) == (2, 1)
    assert report.failures == [
        {"id": "broken.doentry", "reason": "the file is not a property list"}
    ]
    pier, plain = await _entries(client, me)
    assert (pier["title"], pier["tags"], pier["starred"]) == ("Pier", ["sea"], True)
    assert pier["entry_date"] == "2014-02-03T07:30:00Z"
    assert pier["timezone"] == "America/Los_Angeles"
    assert pier["metadata"]["location"] == {
        "lat": 37.8, "lng": -122.4, "name": "Pier 39, United States"
    }  # fmt: skip
    kept = pier["metadata"]["dayone_classic"]
    assert kept["Weather"] == {"Celsius": "14", "Description": "Fog"}
    assert kept["Creator"]["Generation Date"] == "2014-02-04T00:00:00+00:00"
    assert plain["raw_data"]["text"] == "Plain day."

    # The same journal, exported later as JSON: same uuids, so the entries are updated.
    later = {"entries": [{"uuid": "AAAA0002", "creationDate": "2014-02-03T07:30:00Z",
                          "text": "Plain day, and then some."}]}  # fmt: skip
    path = tmp_path / "Journal.json"
    path.write_text(json.dumps(later))
    again = await _import(database, user_id, "dayone", path)
    assert (again.created, again.updated) == (0, 1)
    assert len(await _entries(client, me)) == 2


def _jex(folder: Path, target: Path) -> Path:
    """A JEX archive of a RAW export, with what a hostile tar could add beside the items."""
    with tarfile.open(target, "w") as archive:
        for path in sorted(folder.glob("*.md")):
            archive.add(path, arcname=path.name)
        link = tarfile.TarInfo("evil.md")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
        resource = tarfile.TarInfo("resources/5e000000000000000000000000000001.jpg")
        resource.size = 3
        archive.addfile(resource, io.BytesIO(b"\xff\xd8\xff"))
    return target


@pytest.mark.parametrize("packed", [False, True], ids=["raw", "jex"])
async def test_joplin(
    client: httpx.AsyncClient, database: Database, tmp_path: Path, packed: bool
) -> None:
    me, user_id = await _me(client)
    source = FIXTURES / "joplin"
    path = _jex(source, tmp_path / "export.jex") if packed else source
    report = await _import(database, user_id, "joplin", path)
    assert (report.created, report.failed) == (2, 1)
    encrypted = "the note is encrypted in Joplin: export it decrypted"
    assert report.failures == [{"id": "2b000000000000000000000000000003", "reason": encrypted}]
    harbour, groceries = await _entries(client, me)
    assert harbour["title"] == "Harbour walk"
    assert harbour["raw_data"]["text"] == "Boats at **low tide**.\n\nSecond paragraph."
    assert harbour["entry_date"] == "2023-06-01T07:45:00Z"
    assert harbour["tags"] == ["sea"]
    assert harbour["metadata"]["location"] == {"lat": 41.14961, "lng": -8.61099}
    kept = harbour["metadata"]["joplin"]
    assert (kept["notebook"], kept["author"], kept["updated_time"]) == (
        "Travel / Portugal", "Ana", "2023-06-02T09:30:00.000Z"
    )  # fmt: skip
    assert "location" not in groceries["metadata"], "0, 0 is Joplin's 'no place'"
    assert groceries["metadata"]["joplin"]["is_todo"] == "1"

    broken = tmp_path / "broken.jex"
    broken.write_bytes(_jex(source, tmp_path / "whole.jex").read_bytes()[:700])
    with pytest.raises(InvalidImportFile):
        await _import(database, user_id, "joplin", broken)


async def test_an_undated_note_in_a_zip_is_dated_by_the_zip_and_unchanged_on_reimport(
    client: httpx.AsyncClient, database: Database, tmp_path: Path
) -> None:
    _me_account, user_id = await _me(client)
    path = tmp_path / "notes.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("idea.md", (2021, 3, 4, 5, 6, 8)), "No date here.")
    first = await _import(database, user_id, "markdown", path)
    again = await _import(database, user_id, "markdown", path)
    assert (first.created, again.unchanged) == (1, 1)
    entries = await _entries(client, _me_account)
    assert entries[0]["entry_date"].startswith("2021-03-04T05:06:08")


async def test_the_reader_runs_on_one_thread_and_is_closed_when_a_batch_fails(
    client: httpx.AsyncClient, database: Database
) -> None:
    _me_account, user_id = await _me(client)
    threads: set[str] = set()
    closed_on: list[str] = []

    def reader() -> Any:
        try:
            for number in range(3 * imports_service.BATCH_SIZE):
                threads.add(threading.current_thread().name)
                fields = {"raw_data": {"format": "markdown", "text": f"n{number}"},
                          "entry_date": "2024-01-01T10:00:00Z"}  # fmt: skip
                yield SourceRecord(f"r{number}", fields)
        finally:
            closed_on.append(threading.current_thread().name)

    async def progress(report: ImportReport) -> None:
        raise RuntimeError("the first batch's write fails after it")

    with pytest.raises(RuntimeError):
        await imports_service.import_records(
            database, user_id, "jrnl", "jrnl", reader(), JournalSettings(), on_progress=progress
        )
    assert len(threads) == 1, "one reading thread, whichever batch"
    assert closed_on == list(threads), "closed on its own thread when the import stopped"


async def test_batches_are_written_two_at_once_and_the_first_failure_stops_the_rest() -> None:
    """The writer side of an import: at most WRITERS batches in flight, in the order read; a
    failing batch cancels the one beside it (its transaction rolls back) and no later batch
    starts."""
    started: list[int] = []
    finished: list[int] = []
    in_flight = 0
    most = 0

    async def batches() -> AsyncIterator[Any]:
        for number in range(8):
            yield number

    async def write(number: Any) -> None:
        nonlocal in_flight, most
        started.append(number)
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.02 if number != 3 else 0.001)
            if number == 3:
                raise InvalidImportFile("batch 3 is bad")
            await asyncio.sleep(5 if number == 2 else 0.05)  # 2 is still writing when 3 fails
            finished.append(number)
        finally:
            in_flight -= 1

    with pytest.raises(InvalidImportFile):
        await imports_service._write_concurrently(batches(), write)
    assert most == imports_service.WRITERS == 2
    assert started == [0, 1, 2, 3], "read order, and nothing after the failure"
    assert 2 not in finished, "the batch beside the failing one was cancelled"
    assert in_flight == 0

    finished.clear()

    async def fine(number: Any) -> None:
        await asyncio.sleep(0.001 * (8 - number))
        finished.append(number)

    await imports_service._write_concurrently(batches(), fine)
    assert sorted(finished) == list(range(8))

    most = 0

    async def counted(number: Any) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1

    # One connection for every unit of work (the tests' outer transaction): one at a time.
    await imports_service._write_concurrently(batches(), counted, writers=1)
    assert most == 1


async def test_a_batch_chosen_as_a_deadlocks_victim_is_written_again(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers may meet on the same tags; PostgreSQL then aborts one. That batch is
    written again from the start and counted once."""
    _me_account, user_id = await _me(client)
    write_imported = bulk.write_imported
    tries = 0

    async def meets_a_deadlock_once(session: Any, *args: Any) -> Any:
        nonlocal tries
        tries += 1
        outcome = await write_imported(session, *args)
        if tries == 1:  # as PostgreSQL answers the victim of a deadlock, after its writes
            await session.execute(
                text("DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$")
            )
        return outcome

    monkeypatch.setattr(bulk, "write_imported", meets_a_deadlock_once)

    def reader() -> Any:
        for number in range(3):
            fields = {"raw_data": {"format": "markdown", "text": f"again {number}"},
                      "tags": ["shared"], "entry_date": "2024-01-01T10:00:00Z"}  # fmt: skip
            yield SourceRecord(f"d{number}", fields)

    report = await imports_service.import_records(
        database, user_id, "jrnl", "jrnl", reader(), JournalSettings()
    )
    assert tries == 2
    assert (report.created, report.failed) == (3, 0), "counted once"
    async with database.unit_of_work(user_id) as session:
        entries = await session.scalar(text("SELECT count(*) FROM entries"))
        usage = await session.scalar(text("SELECT usage_count FROM tags WHERE name = 'shared'"))
    assert (entries, usage) == (3, 3), "the first try left nothing behind"


async def test_two_writers_on_a_real_database_write_every_batch_and_queue_one_job_each(
    fresh_db: DatabaseUrls, tmp_path: Path
) -> None:
    """The import as it runs outside the tests' shared connection: two batches in flight on
    two connections, meeting on the same tags; every entry and tag link written once, the
    usage counts right, and one analysis job a batch (the worker defers each entry's)."""
    settings = make_settings(fresh_db, tmp_path)
    user_id, _ = await user_with_entries(fresh_db, settings, [])
    size = imports_service.BATCH_SIZE
    total = 2 * size + 7
    names = ["walk", "rain", "tea", "work"]

    def reader() -> Any:
        for number in range(total):
            fields = {"raw_data": {"format": "markdown", "text": f"walk number {number}"},
                      "tags": [names[number % 4], names[(number + 1) % 4]],
                      "entry_date": "2024-01-01T10:00:00Z"}  # fmt: skip
            yield SourceRecord(f"w{number}", fields)

    app = Database(create_engine(fresh_db.app, settings.db, PoolPlan(3, 0), application_name="t"))
    system = Database(
        create_engine(fresh_db.system, settings.db, PoolPlan(1, 0), application_name="t")
    )
    try:
        assert not app.one_connection
        report = await imports_service.import_records(
            app, user_id, "jrnl", "jrnl", reader(), JournalSettings()
        )
        assert (report.created, report.failed) == (total, 0)
        async with app.unit_of_work(user_id) as session:
            entries = await session.scalar(text("SELECT count(*) FROM entries"))
            links = await session.scalar(text("SELECT count(*) FROM entry_tags"))
            usage: dict[str, int] = dict(
                (await session.execute(text("SELECT name, usage_count FROM tags"))).all()
            )
        assert (entries, links) == (total, 2 * total)
        expected = {name: sum(name in (names[n % 4], names[(n + 1) % 4]) for n in range(total))
                    for name in names}  # fmt: skip
        assert usage == expected

        async with system.unit_of_work() as session:
            jobs = (await session.execute(text(
                "SELECT args FROM procrastinate_jobs WHERE task_name = 'analysis:analyze_batch'"
                " ORDER BY jsonb_array_length(args -> 'entry_ids') DESC"
            ))).scalars().all()  # fmt: skip
            per_entry = await session.scalar(text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'analysis:analyze_entry'"
            ))  # fmt: skip
            waiting = await analysis_service.backfill_targets(session, everything=False)
            counts = await analysis_service.queue_counts(session)
        assert counts == {"todo (batches)": 3}, "`diarist analysis status` shows them"
        assert [len(job["entry_ids"]) for job in jobs] == [size, size, 7]
        assert {job["user_id"] for job in jobs} == {str(user_id)}
        assert per_entry == 0, "one job a batch, none an entry"
        assert waiting == [], "entries a batch job will queue are left to it"

        # An entry its user's waiting batches do not name is not left to them.
        orphan = jobs[2]["entry_ids"].pop()
        async with system.unit_of_work() as session:
            await session.execute(text(
                "UPDATE procrastinate_jobs SET args = jsonb_set(args, '{entry_ids}',"
                " (args -> 'entry_ids') - :orphan) WHERE args -> 'entry_ids' ? :orphan"
            ), {"orphan": orphan})  # fmt: skip
            waiting = await analysis_service.backfill_targets(session, everything=False)
        assert waiting == [(uuid.UUID(orphan), user_id)]

        # The worker's side: each entry's own job, as the entry's owner; an entry deleted
        # since the batch was queued gets none.
        gone = jobs[2]["entry_ids"][0]
        async with app.unit_of_work(user_id) as session:
            await session.execute(text("DELETE FROM entries WHERE id = :id"), {"id": gone})
        deferred = [
            await analysis_service.defer_entry_analyses(
                app, user_id, [uuid.UUID(e) for e in job["entry_ids"]]
            )
            for job in [*jobs, {"entry_ids": [orphan]}]
        ]
        assert deferred == [size, size, 5, 1]
        async with system.unit_of_work() as session:
            await session.execute(text(
                "UPDATE procrastinate_jobs SET status = 'succeeded'"
                " WHERE task_name = 'analysis:analyze_batch'"
            ))  # fmt: skip
        async with system.unit_of_work() as session:
            locks = (await session.execute(text(
                "SELECT lock FROM procrastinate_jobs WHERE task_name = 'analysis:analyze_entry'"
            ))).scalars().all()  # fmt: skip
            waiting = await analysis_service.backfill_targets(session, everything=False)
            counts = await analysis_service.queue_counts(session)
        assert counts == {"todo": total - 1, "succeeded (batches)": 3}
        async with app.unit_of_work(user_id) as session:
            ids = (await session.execute(text("SELECT id FROM entries"))).scalars().all()
        assert sorted(locks) == sorted(f"entry_id:{entry_id}" for entry_id in ids)
        assert waiting == []
    finally:
        await app.dispose()
        await system.dispose()
