"""Imports over the API: upload (multipart), the job's work, progress and report, and bad
requests. The job's body runs here on the test's database (the worker runs it in production;
the task is registered like every other, tests/test_worker.py)."""

from __future__ import annotations

import io
import os
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any, get_args

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.app import create_app
from diarist.config import ImportSettings, Settings
from diarist.db.engine import Database, act_as
from diarist.imports import service as imports_service
from diarist.imports.schemas import ImportFormat
from diarist.imports.sources import READERS
from tests.factories.accounts import Account, signed_up, user_id_of

FIXTURES = Path(__file__).parent / "fixtures"


async def _upload(
    client: httpx.AsyncClient, me: Account, data: bytes, fmt: str, name: str, **form: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/imports",
        files={"file": (name, data, "application/octet-stream")},
        data={"format": fmt, **form},
        headers=me.auth,
    )


async def _run(database: Database, settings: Settings, me_id: uuid.UUID, import_id: str) -> str:
    return await imports_service.run_import(
        database, me_id, uuid.UUID(import_id), settings.data_dir, settings.journal
    )


async def test_upload_then_the_job_imports_and_reports(
    client: httpx.AsyncClient, database: Database, settings: Settings, session: AsyncSession
) -> None:
    me = await signed_up(client)
    me_id = await user_id_of(client, me)
    started = await _upload(client, me, (FIXTURES / "Travel Journal.json").read_bytes(),
                            "dayone", "../../Travel Journal.json")  # fmt: skip
    assert started.status_code == 202, started.text
    body = started.json()
    assert (body["status"], body["file_name"], body["format"]) == (
        "queued", "Travel Journal.json", "dayone"
    )  # fmt: skip
    assert started.headers["location"] == f"/api/v1/imports/{body['id']}"
    kept = imports_service.upload_path(
        settings.data_dir, uuid.UUID(body["id"]), "Travel Journal.json"
    )
    assert kept.read_bytes() == (FIXTURES / "Travel Journal.json").read_bytes()
    assert kept.stat().st_mode & 0o777 == 0o600
    assert kept.parent.stat().st_mode & 0o777 == 0o700
    job = await session.execute(
        text("SELECT args FROM procrastinate_jobs WHERE task_name = 'imports:run_import'"
             " AND args ->> 'import_id' = :id"), {"id": body["id"]},
    )  # fmt: skip
    assert job.scalar_one() == {"import_id": body["id"], "user_id": str(me_id)}

    assert await _run(database, settings, me_id, body["id"]) == "done"
    done = (await client.get(started.headers["location"], headers=me.auth)).json()
    assert (done["status"], done["read"], done["created"], done["failed"]) == ("done", 4, 3, 1)
    assert done["failures"] == [{"id": "#3", "reason": "the entry has no uuid"}]
    assert done["finished_at"] is not None
    assert not kept.parent.exists(), "the upload is removed once imported"
    entries = await client.get("/api/v1/entries", headers=me.auth)
    assert len(entries.json()["items"]) == 3
    one = await client.get(f"/api/v1/entries/{entries.json()['items'][0]['id']}", headers=me.auth)
    assert one.json()["metadata"]["dayone"]["journal"] == "Travel Journal", "named by its file"
    listed = await client.get("/api/v1/imports", headers=me.auth)
    assert [item["id"] for item in listed.json()] == [body["id"]]
    assert await _run(database, settings, me_id, body["id"]) == "done", "a second run is a no-op"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def test_a_markdown_folder_as_a_zip_and_a_dry_run(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    me = await signed_up(client)
    me_id = await user_id_of(client, me)
    notes = {
        f"Notes/{path.relative_to(FIXTURES / 'notes').as_posix()}": path.read_bytes()
        for path in (FIXTURES / "notes").rglob("*.md")
    }
    archive = _zip(notes)
    dry = (await _upload(client, me, archive, "markdown", "notes.zip", dry_run="true")).json()
    assert await _run(database, settings, me_id, dry["id"]) == "done"
    report = (await client.get(f"/api/v1/imports/{dry['id']}", headers=me.auth)).json()
    assert (report["dry_run"], report["created"], report["failed"]) == (True, 2, 1)
    assert (await client.get("/api/v1/entries", headers=me.auth)).json()["items"] == []

    real = (await _upload(client, me, archive, "markdown", "notes.zip")).json()
    assert await _run(database, settings, me_id, real["id"]) == "done"
    titles = {
        e["title"] for e in (await client.get("/api/v1/entries", headers=me.auth)).json()["items"]
    }
    assert titles == {"The harbour at low tide", "A daily note"}


async def test_a_file_that_cannot_be_read_fails_the_import(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    me = await signed_up(client)
    me_id = await user_id_of(client, me)
    started = (await _upload(client, me, b"PK\x03\x04 not really", "dayone", "x.zip")).json()
    assert await _run(database, settings, me_id, started["id"]) == "failed"
    failed = (await client.get(f"/api/v1/imports/{started['id']}", headers=me.auth)).json()
    assert (failed["status"], failed["error_code"]) == ("failed", "invalid_import_file")
    assert failed["error"]
    assert not imports_service.upload_folder(settings.data_dir, uuid.UUID(started["id"])).exists()


async def test_bad_requests(client: httpx.AsyncClient) -> None:
    me, other = await signed_up(client), await signed_up(client)
    data = (FIXTURES / "journal.txt").read_bytes()
    file = {"file": ("j.txt", data)}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"files": file, "data": {"format": "evernote"}}, 422, "validation_error"),
        ({"files": file, "data": {}}, 422, "validation_error"),
        ({"data": {"format": "jrnl"}}, 422, "invalid_import_request"),
        ({"content": b'{"format": "jrnl"}', "headers": {"content-type": "application/json"}},
         422, "validation_error"),
    ]  # fmt: skip
    for request, status, code in cases:
        headers = {**me.auth, **request.pop("headers", {})}
        response = await client.post("/api/v1/imports", headers=headers, **request)
        assert response.status_code == status, (request, response.text)
        assert response.json()["code"] == code
    mine = (await _upload(client, me, data, "jrnl", "j.txt")).json()
    assert (
        await client.get(f"/api/v1/imports/{mine['id']}", headers=other.auth)
    ).status_code == 404
    assert (await client.get(f"/api/v1/imports/{uuid.uuid4()}", headers=me.auth)).json()[
        "code"
    ] == "import_not_found"
    assert (await client.post("/api/v1/imports", files={"file": ("j.txt", data)},
                              data={"format": "jrnl"})).status_code == 401  # fmt: skip


async def test_uploads_have_their_own_size_limit(
    settings: Settings, database: Database, app: FastAPI
) -> None:
    small = settings.model_copy(update={"imports": ImportSettings(max_upload_bytes=4096)})
    limited = create_app(small, database=database)
    limited.state.accounts = app.state.accounts
    transport = httpx.ASGITransport(app=limited, raise_app_exceptions=False)
    async with (
        limited.router.lifespan_context(limited),
        httpx.AsyncClient(transport=transport, base_url="http://diarist.test") as client,
    ):
        me = await signed_up(client)
        big = await _upload(client, me, b"x" * 8192, "jrnl", "big.txt")
        assert big.status_code == 413
        assert big.json()["code"] == "payload_too_large"
        # Other routes keep the ordinary limit; an upload within its limit passes it.
        fits = await _upload(client, me, b"[2024-01-01 10:00] Hi.", "jrnl", "small.txt")
        assert fits.status_code == 202


async def test_uploads_no_import_waits_for_are_swept(
    client: httpx.AsyncClient, settings: Settings, session: AsyncSession
) -> None:
    me = await signed_up(client)
    waiting = (await _upload(client, me, b"[2024-01-01 10:00] Hi.", "jrnl", "j.txt")).json()
    folder = settings.data_dir / "imports"
    orphan, young = folder / str(uuid.uuid4()), folder / str(uuid.uuid4())
    for leftover in (orphan, young):
        leftover.mkdir()
        (leftover / "x.json").write_bytes(b"left behind")
    kept = imports_service.upload_folder(settings.data_dir, uuid.UUID(waiting["id"]))
    two_hours_ago = time.time() - 2 * 3600
    for path in (orphan, kept):
        os.utime(path, (two_hours_ago, two_hours_ago))
    # An import whose job ended without finishing it (it kept killing its worker, say).
    lost = (await _upload(client, me, b"[2024-01-01 10:00] Hi.", "jrnl", "j.txt")).json()
    # The hourly task runs as the system role and sees everyone's imports; here, mine.
    await act_as(session, await user_id_of(client, me))
    await session.execute(
        text("UPDATE procrastinate_jobs SET status = 'failed' WHERE args ->> 'import_id' = :id"),
        {"id": lost["id"]},
    )
    await session.execute(
        text("UPDATE imports SET created_at = now() - interval '2 hours' WHERE id = ANY(:ids)"),
        {"ids": [uuid.UUID(waiting["id"]), uuid.UUID(lost["id"])]},
    )
    lost_file = imports_service.upload_folder(settings.data_dir, uuid.UUID(lost["id"]))
    os.utime(lost_file, (two_hours_ago, two_hours_ago))
    assert await imports_service.sweep_uploads(session, settings.data_dir) == 2
    assert not orphan.exists()
    assert not lost_file.exists()
    assert kept.exists(), "its import still waits for the worker"
    assert young.exists(), "too young to tell from an upload still being committed"
    gone = (await client.get(f"/api/v1/imports/{lost['id']}", headers=me.auth)).json()
    assert (gone["status"], gone["error_code"]) == ("failed", "import_lost")
    still = (await client.get(f"/api/v1/imports/{waiting['id']}", headers=me.auth)).json()
    assert still["status"] == "queued"


def test_the_api_offers_every_format_there_is_a_reader_for() -> None:
    assert set(get_args(ImportFormat)) == set(READERS)


def test_an_uploads_name_is_one_safe_path_component() -> None:
    clean = imports_service.clean_file_name
    assert clean("../../etc/passwd") == "passwd"
    assert clean("C:\\Users\\ana\\Journal.json") == "Journal.json"
    assert [clean(name) for name in ("..", ".", "", None, "a/..", "x\x00y")] == [
        "upload", "upload", "upload", "upload", "upload", "xy"
    ]  # fmt: skip


async def test_a_user_has_a_few_imports_waiting_at_most(
    client: httpx.AsyncClient, settings: Settings, database: Database
) -> None:
    me, other = await signed_up(client), await signed_up(client)
    data = (FIXTURES / "journal.txt").read_bytes()
    settings.imports = settings.imports.model_copy(update={"max_waiting": 2})
    first = (await _upload(client, me, data, "jrnl", "a.txt")).json()
    assert (await _upload(client, me, data, "jrnl", "b.txt")).status_code == 202
    third = await _upload(client, me, data, "jrnl", "c.txt")
    assert third.status_code == 429
    assert third.json()["code"] == "too_many_imports"
    assert third.headers["retry-after"] == "60"
    assert len((await client.get("/api/v1/imports", headers=me.auth)).json()) == 2
    assert (await _upload(client, other, data, "jrnl", "a.txt")).status_code == 202, "per user"
    assert await _run(database, settings, await user_id_of(client, me), first["id"]) == "done"
    assert (await _upload(client, me, data, "jrnl", "c.txt")).status_code == 202
