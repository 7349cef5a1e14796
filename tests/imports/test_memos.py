"""Memos, imported from a real HTTP server that speaks its API (in a thread of its own: the
reader is synchronous), page by page, and what a broken server gets."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from diarist.attachments.service import Attaching
from diarist.config import JournalSettings, Settings
from diarist.db.engine import Database
from diarist.imports import service as imports_service
from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources import _memos
from tests.factories import media
from tests.factories.accounts import signed_up, user_id_of

TOKEN = "memos-access-token"
MEMOS: list[dict[str, Any]] = [
    {"name": "memos/a1", "uid": "a1", "creator": "users/1", "content": "# Market\n\nFigs. #food",
     "createTime": "2024-04-01T08:00:00Z", "updateTime": "2024-04-01T09:00:00Z",
     "displayTime": "2024-04-01T08:00:00Z", "visibility": "PUBLIC", "pinned": True,
     "state": "NORMAL", "tags": ["food"],
     "location": {"placeholder": "Lisbon", "latitude": 38.72, "longitude": -9.14}},
    {"name": "memos/a2", "content": "Quiet evening #home #reading", "state": "ARCHIVED",
     "createTime": "2024-04-02T20:00:00Z", "visibility": "PRIVATE"},
    {"name": "memos/a3", "content": "A memo without a time"},
]  # fmt: skip
PHOTO = media.jpeg()
FILES = [
    {"name": "attachments/f1", "filename": "figs.jpg", "type": "image/jpeg", "size": 1},
    {"name": "attachments/f2", "filename": "gone.png", "type": "image/png"},
    {"name": "attachments/f3", "filename": "x", "externalLink": "https://example.org/x.png"},
]


def _app(mode: dict[str, str]) -> Starlette:
    async def memos(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"code": 16, "message": "unauthenticated"}, status_code=401)
        if mode["kind"] == "garbage":
            return PlainTextResponse("<html>maintenance</html>")
        if mode["kind"] == "broken":
            return JSONResponse({"message": "internal"}, status_code=500)
        if mode["kind"] == "slow":
            await asyncio.sleep(1.5)
        assert request.query_params["pageSize"] == "200"
        if request.query_params.get("pageToken") == "page-2":
            return JSONResponse({"memos": MEMOS[2:], "nextPageToken": ""})
        files: dict[str, object] = {"attachments": FILES} if mode.get("files") else {}
        first = [{**MEMOS[0], **files}, MEMOS[1]]
        return JSONResponse({"memos": first, "nextPageToken": "page-2"})

    async def file(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"message": "unauthenticated"}, status_code=401)
        if request.path_params["path"] == "attachments/f1/figs.jpg":
            return Response(PHOTO, media_type="image/jpeg")
        return JSONResponse({"message": "not found"}, status_code=404)

    return Starlette(routes=[Route("/api/v1/memos", memos), Route("/file/{path:path}", file)])


@pytest.fixture
def memos_server() -> Iterator[tuple[str, dict[str, str]]]:
    mode = {"kind": "normal"}
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(_app(mode), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", mode
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


async def test_memos_page_by_page(
    client: httpx.AsyncClient, database: Database, memos_server: tuple[str, dict[str, str]]
) -> None:
    url, _mode = memos_server
    me = await signed_up(client)
    report = await imports_service.import_memos(
        database, await user_id_of(client, me), url, TOKEN, JournalSettings()
    )
    assert (report.created, report.failed) == (2, 1)
    assert report.failures == [{"id": "memos/a3", "reason": "the memo has no content or no time"}]
    page = (await client.get("/api/v1/entries", headers=me.auth)).json()["items"]
    ids = [item["id"] for item in reversed(page)]
    market, evening = [
        (await client.get(f"/api/v1/entries/{i}", headers=me.auth)).json() for i in ids
    ]
    assert (market["title"], market["tags"], market["pinned"]) == ("Market", ["food"], True)
    assert market["raw_data"]["text"] == "# Market\n\nFigs. #food"
    assert market["entry_date"] == "2024-04-01T08:00:00Z"
    assert market["visibility"] == "private", "private in diarist, whatever it was in Memos"
    assert market["metadata"]["memos"]["visibility"] == "PUBLIC"
    assert market["metadata"]["location"] == {"lat": 38.72, "lng": -9.14, "name": "Lisbon"}
    assert sorted(evening["tags"]) == ["home", "reading"], "tags from the text when not listed"
    assert evening["metadata"]["memos"]["state"] == "ARCHIVED"


async def test_memos_files_are_fetched_and_attached(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    memos_server: tuple[str, dict[str, str]],
) -> None:
    url, mode = memos_server
    mode["files"] = "yes"
    me = await signed_up(client)
    report = await imports_service.import_memos(
        database, await user_id_of(client, me), url, TOKEN, JournalSettings(),
        attaching=Attaching.of(settings.attachments, settings.data_dir),
    )  # fmt: skip
    assert (report.created, report.attached, report.attachments_failed) == (2, 1, 1)
    assert report.failures[-1] == {
        "id": "memos/a1/attachments/f2", "reason": "The Memos server answered 404."
    }  # fmt: skip
    (attached,) = (await client.get("/api/v1/attachments", headers=me.auth)).json()
    assert (attached["source_id"], attached["file_name"]) == ("attachments/f1", "figs.jpg")
    assert attached["metadata"]["memos"]["type"] == "image/jpeg"
    data = await client.get(attached["content_url"], headers=me.auth)
    assert data.content == PHOTO


@pytest.mark.parametrize(
    ("kind", "token", "says"),
    [
        ("normal", "wrong", "refused the access token"),
        ("garbage", TOKEN, "not JSON"),
        ("broken", TOKEN, "answered 500"),
        ("slow", TOKEN, "did not answer (ReadTimeout)"),
    ],
)
async def test_a_memos_server_that_misbehaves(
    client: httpx.AsyncClient,
    database: Database,
    memos_server: tuple[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    token: str,
    says: str,
) -> None:
    url, mode = memos_server
    mode["kind"] = kind
    monkeypatch.setattr(_memos, "TIMEOUT_S", 0.5)
    me = await signed_up(client)
    with pytest.raises(InvalidImportFile, match=says.replace("(", r"\(").replace(")", r"\)")):
        await imports_service.import_memos(
            database, await user_id_of(client, me), url, token, JournalSettings()
        )
    assert (await client.get("/api/v1/entries", headers=me.auth)).json()["items"] == []


def test_only_http_addresses() -> None:
    with pytest.raises(InvalidImportFile):
        list(_memos.read("file:///etc/passwd", TOKEN))
    assert _memos.record("not a memo", 0).error == "a memo is not a JSON object"


async def test_a_memos_import_over_the_api(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    memos_server: tuple[str, dict[str, str]],
) -> None:
    url, _mode = memos_server
    me = await signed_up(client)
    refused = await client.post(
        "/api/v1/imports", data={"format": "memos", "url": url, "token": TOKEN}, headers=me.auth
    )
    assert refused.status_code == 422, "a loopback address: refused unless allowed"
    assert "private, loopback" in refused.json()["detail"]
    settings.imports = settings.imports.model_copy(update={"memos_allow_private": True})
    started = await client.post(
        "/api/v1/imports", data={"format": "memos", "url": url, "token": TOKEN}, headers=me.auth
    )
    assert started.status_code == 202, started.text
    body = started.json()
    kept = imports_service.upload_path(settings.data_dir, uuid.UUID(body["id"]), "memos.json")
    assert kept.stat().st_mode & 0o777 == 0o600, "the token waits for the job, owner only"
    status = await imports_service.run_import(
        database, await user_id_of(client, me), uuid.UUID(body["id"]), settings.data_dir,
        JournalSettings(), Attaching.of(settings.attachments, settings.data_dir),
    )  # fmt: skip
    assert status == "done"
    assert not kept.exists(), "the token is gone with the job"
    done = (await client.get(started.headers["location"], headers=me.auth)).json()
    assert (done["created"], done["failed"]) == (2, 1)
    assert TOKEN not in json.dumps(done)


@pytest.mark.parametrize(
    ("form", "with_file"),
    [
        ({"format": "memos", "url": "http://x.test"}, False),
        ({"format": "memos", "token": TOKEN}, False),
        ({"format": "memos", "url": "ftp://x.test", "token": TOKEN}, False),
        ({"format": "memos", "url": "http://169.254.169.254/", "token": TOKEN}, False),
        ({"format": "memos", "url": "http://10.0.0.7:5230", "token": TOKEN}, False),
        ({"format": "memos", "url": "http://x.test", "token": TOKEN}, True),
        ({"format": "jrnl"}, False),
        ({"format": "jrnl", "url": "http://x.test", "token": TOKEN}, True),
    ],
)
async def test_an_import_asked_with_the_wrong_parts(
    client: httpx.AsyncClient, form: dict[str, str], with_file: bool
) -> None:
    me = await signed_up(client)
    files = {"file": ("j.txt", b"[2024-01-01 10:00] Hi.")} if with_file else None
    refused = await client.post("/api/v1/imports", data=form, files=files, headers=me.auth)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid_import_request"
    assert (await client.get("/api/v1/imports", headers=me.auth)).json() == []
