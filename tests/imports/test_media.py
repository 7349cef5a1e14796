"""Day One's photos, videos, audio and PDFs come with their entries: each file of the export's
media folders becomes an attachment of its entry (typed by its bytes, stored once), keeping
its identifier and fields; re-imports attach nothing twice; a file missing or bad is reported
and its entry imported all the same."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from diarist.attachments.service import Attaching
from diarist.config import AttachmentSettings, JournalSettings, Settings
from diarist.db.engine import Database
from diarist.imports import service as imports_service
from diarist.imports.service import ImportReport
from tests.factories import media
from tests.factories.accounts import Account, signed_up, user_id_of

LIMIT = 64 * 1024 * 1024
JOPLIN = Path(__file__).parent / "fixtures" / "joplin"


def _md5(data: bytes) -> str:
    """Day One names a file by its MD5 (a name, not a security check)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _entry(uid: str, text: str, **media_lists: list[dict[str, Any]]) -> dict[str, Any]:
    return {"uuid": uid, "creationDate": "2024-05-01T08:00:00Z", "text": text, **media_lists}


def _item(ident: str, data: bytes, kind: str, **more: Any) -> dict[str, Any]:
    return {"identifier": ident, "md5": _md5(data), "type": kind, **more}


def _export(path: Path, entries: list[dict[str, Any]], files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Journal.json", json.dumps({"metadata": {}, "entries": entries}))
        for name, data in files.items():
            archive.writestr(name, data)
    return path


async def _import(
    database: Database, settings: Settings, user_id: uuid.UUID, path: Path, **options: Any
) -> ImportReport:
    return await imports_service.import_file(
        database, user_id, "dayone", path, JournalSettings(), max_file_bytes=LIMIT,
        attaching=Attaching.of(settings.attachments, settings.data_dir), **options,
    )  # fmt: skip


async def _attachments(client: httpx.AsyncClient, me: Account) -> list[dict[str, Any]]:
    listed = await client.get("/api/v1/attachments", headers=me.auth)
    assert listed.status_code == 200, listed.text
    found: list[dict[str, Any]] = listed.json()
    return found


async def test_day_one_media_become_attachments(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    photo, sound, document = media.jpeg(gps=True), media.wav(), media.pdf()
    script = b"#!/bin/sh\n"
    photo_item = _item("AAAA0001", photo, "jpeg", width=64, height=48, orderInEntry=0)
    entries = [
        _entry("E1", "A day at the sea\n\n![](dayone-moment://AAAA0001)", photos=[photo_item],
               audios=[_item("BBBB0002", sound, "wav", duration=0.5)]),
        _entry("E2", "Papers, and the same photo again",
               pdfAttachments=[_item("CCCC0003", document, "pdf")],
               photos=[_item("AAAA0009", photo, "jpeg")]),
        _entry("E3", "Two files that are not there, one that lies",
               photos=[_item("DDDD0004", b"gone", "jpeg"), _item("EEEE0005", b"nope", "png"),
                       _item("FFFF0006", script, "jpeg")]),
    ]  # fmt: skip
    files = {
        f"photos/{_md5(photo)}.jpeg": photo,
        f"audios/{_md5(sound)}.wav": sound,
        f"pdfs/{_md5(document)}.pdf": document,
        f"photos/{_md5(script)}.jpeg": script,
    }
    path = _export(tmp_path / "export.zip", entries, files)

    dry = await _import(database, settings, user_id, path, dry_run=True)
    assert (dry.created, dry.attached) == (3, 5), "found in the export (not yet read)"
    assert await _attachments(client, me) == []

    report = await _import(database, settings, user_id, path)
    assert (report.created, report.failed) == (3, 0)
    assert (report.attached, report.attachments_failed) == (4, 3)
    reasons = {f["id"]: f["reason"] for f in report.failures}
    assert reasons["E3/DDDD0004"] == reasons["E3/EEEE0005"] == "the file is not in the export"
    assert reasons["E3/FFFF0006"].startswith("Attachments are photos")

    attached = {a["source_id"]: a for a in await _attachments(client, me)}
    assert set(attached) == {"AAAA0001", "BBBB0002", "CCCC0003", "AAAA0009"}
    first = attached["AAAA0001"]
    assert (first["kind"], first["file_name"], first["has_location"]) == (
        "image", "AAAA0001.jpeg", True
    )  # fmt: skip
    assert first["metadata"] == {"source": "dayone", "kind": "photos", "dayone": photo_item}
    assert attached["BBBB0002"]["media_type"] == "audio/wav"
    assert attached["CCCC0003"]["kind"] == "pdf"
    assert attached["AAAA0009"]["sha256"] == first["sha256"], "the same bytes, stored once"
    usage = (await client.get("/api/v1/attachments/usage", headers=me.auth)).json()
    assert usage["files"] == 3
    original = await client.patch(
        f"/api/v1/attachments/{first['id']}", json={"keep_location": True}, headers=me.auth
    )
    assert original.status_code == 200
    served = await client.get(first["content_url"], headers=me.auth)
    assert served.content == photo, "the bytes as exported"
    entry = (await client.get(f"/api/v1/entries/{first['entry_id']}", headers=me.auth)).json()
    assert "dayone-moment://AAAA0001" in entry["raw_data"]["text"], "the reference stays"

    again = await _import(database, settings, user_id, path)
    assert (again.unchanged, again.attached, again.attachments_failed) == (3, 0, 3)
    assert len(await _attachments(client, me)) == 4, "nothing attached twice"


async def test_a_bare_day_one_json_imports_without_its_media(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    bare = tmp_path / "Journal.json"
    entry = _entry("E1", "text", photos=[_item("AAAA0001", b"x", "jpeg")])
    bare.write_text(json.dumps({"entries": [entry]}))
    report = await _import(database, settings, user_id, bare)
    assert (report.created, report.attached, report.attachments_failed) == (1, 0, 0)


async def test_an_attachment_over_the_limit_fails_alone(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    sound = media.wav(seconds=1)
    settings.attachments = AttachmentSettings(max_file_bytes=4096)
    path = _export(tmp_path / "e.zip",
                   [_entry("E1", "long", audios=[_item("A1", sound, "wav")])],
                   {f"audios/{_md5(sound)}.wav": sound})  # fmt: skip
    report = await _import(database, settings, user_id, path)
    assert (report.created, report.attached, report.attachments_failed) == (1, 0, 1)
    assert report.failures[0]["reason"] == "Attachments are limited to 4096 bytes each."
    assert await _attachments(client, me) == []
    staging = settings.data_dir / "attachments-staging"
    assert not any(staging.iterdir())


async def test_markdown_notes_bring_the_files_they_embed(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path
) -> None:
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    vault = tmp_path / "vault"
    (vault / "2024").mkdir(parents=True)
    (vault / "img").mkdir()
    (vault / "assets" / "deep").mkdir(parents=True)
    (vault / "img" / "a b.png").write_bytes(media.png())
    (vault / "assets" / "deep" / "b.jpg").write_bytes(media.jpeg())
    (vault / "2024" / "b.jpg").write_bytes(media.pdf())  # the shortest path wins, as in Obsidian
    secret = tmp_path / "secret.png"
    secret.write_bytes(media.png(10, 10))
    (vault / "img" / "link.png").symlink_to(secret)
    (vault / "2024" / "2024-05-01 Walk.md").write_text(
        "A walk.\n\n![a](../img/a%20b.png) ![[b.jpg|300]] ![web](https://example.org/x.png)\n"
        "![gone](nothing.png) ![out](../../secret.png) ![link](../img/link.png)\n"
        '![again](<../img/a b.png> "title")\n'
    )
    report = await imports_service.import_file(
        database, user_id, "markdown", vault, JournalSettings(), max_file_bytes=LIMIT,
        attaching=Attaching.of(settings.attachments, settings.data_dir),
    )  # fmt: skip
    assert (report.created, report.attached) == (1, 2)
    assert sorted(f["id"] for f in report.failures) == [
        "2024/2024-05-01 Walk.md/../img/link.png", "2024/2024-05-01 Walk.md/nothing.png",
    ]  # fmt: skip
    attached = {a["source_id"]: a for a in await _attachments(client, me)}
    assert set(attached) == {"img/a b.png", "2024/b.jpg"}
    assert attached["2024/b.jpg"]["kind"] == "pdf", "a name resolved as Obsidian does, by bytes"
    assert attached["img/a b.png"]["file_name"] == "a b.png"


@pytest.mark.parametrize("packed", [False, True], ids=["raw", "jex"])
async def test_joplin_notes_bring_the_resources_they_link(
    client: httpx.AsyncClient, database: Database, settings: Settings, tmp_path: Path,
    packed: bool,
) -> None:  # fmt: skip
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    raw = tmp_path / "raw"
    shutil.copytree(JOPLIN, raw)
    photo_id, gone_id = "5e000000000000000000000000000001", "5e00000000000000000000000000dead"
    (raw / "resources").mkdir()
    (raw / "resources" / f"{photo_id}.jpg").write_bytes(media.jpeg())
    note = (raw / "2b000000000000000000000000000001.md").read_text()
    title, _, rest = note.partition("\n\n")
    body = f"See ![photo.jpg](:/{photo_id}) and [lost](:/{gone_id}).\n\n"
    (raw / "2b000000000000000000000000000001.md").write_text(f"{title}\n\n{body}{rest}")
    source = raw
    if packed:
        source = tmp_path / "export.jex"
        with tarfile.open(source, "w") as archive:
            for path in sorted(raw.rglob("*")):
                archive.add(path, arcname=path.relative_to(raw).as_posix(), recursive=False)
    report = await imports_service.import_file(
        database, user_id, "joplin", source, JournalSettings(), max_file_bytes=LIMIT,
        attaching=Attaching.of(settings.attachments, settings.data_dir),
    )  # fmt: skip
    assert (report.created, report.attached, report.attachments_failed) == (2, 1, 1)
    (attached,) = await _attachments(client, me)
    assert (attached["source_id"], attached["file_name"], attached["kind"]) == (
        photo_id, "photo.jpg", "image"
    )  # fmt: skip
    assert attached["metadata"]["joplin"]["mime"] == "image/jpeg"
