"""Every error is RFC 9457 problem+json with a stable code, and leaks nothing."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from diarist.errors import DiaristError, NotFound

PROBLEM = "application/problem+json"


class Note(BaseModel):
    title: str = Field(max_length=10)
    mood: int = Field(ge=1, le=10)


class Teapot(DiaristError):
    status = 418
    code = "teapot"
    title = "I am a teapot"


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    @app.post("/_test/notes", status_code=201)
    async def create_note(note: Note) -> Note:
        return note

    @app.get("/_test/boom")
    async def boom() -> None:
        secret = "hunter" + "2"  # a value, not source text: only a message would carry it
        raise RuntimeError(f"secret internals: password={secret}")

    @app.get("/_test/teapot")
    async def teapot() -> None:
        raise Teapot("short and stout", spout="left")

    @app.get("/_test/missing")
    async def missing() -> None:
        raise NotFound("No such entry.")

    return app


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records that carry a traceback (stdlib `exc_info`, or structlog's keys before rendering)."""
    return [
        record
        for record in caplog.records
        if record.exc_info
        or (
            isinstance(record.msg, dict)
            and (record.msg.get("exc_info") or record.msg.get("traceback"))
        )
    ]


async def test_unknown_route_is_404_problem(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert body["instance"] == "/nope"
    assert not tracebacks(caplog)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/entries", "GET, POST"),
        ("DELETE", "/api/v1/entries", "GET, POST"),
        ("PUT", "/api/v1/entries/0b0e5c1e-7d3a-4c1f-9a57-2f3c8d9e1a00", "DELETE, GET, PATCH"),
        ("POST", "/api/v1/tags/not-even-an-id", "DELETE, GET, PATCH"),
        ("DELETE", "/healthz", "GET"),
        ("GET", "/api/v1/auth/login", "POST"),
    ],
)
async def test_wrong_method_is_405_problem_allowing_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["allow"] == allow


async def test_head_is_answered_where_allow_says_so(client: httpx.AsyncClient) -> None:
    """HEAD is not among the methods of a GET route: Allow must not promise it."""
    head = await client.head("/healthz")
    assert head.status_code == 405
    assert head.headers["allow"] == "GET"
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.head("/openapi.json")).status_code == 200
    assert (await client.put("/openapi.json")).headers["allow"] == "GET, HEAD"


async def test_malformed_json_is_400_problem(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post(
        "/_test/notes",
        content=b'{"title": "x", mood: }',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "malformed_json"
    assert not tracebacks(caplog)


async def test_validation_error_is_422_without_echoing_values(client: httpx.AsyncClient) -> None:
    response = await client.post("/_test/notes", json={"title": "far too long a title", "mood": 11})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    locations = {tuple(err["loc"]) for err in body["errors"]}
    assert locations == {("body", "title"), ("body", "mood")}
    assert "far too long" not in response.text


async def test_valid_body_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/_test/notes", json={"title": "ok", "mood": 7})
    assert response.status_code == 201
    assert response.json() == {"title": "ok", "mood": 7}


async def test_domain_error_carries_its_status_and_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/_test/teapot")
    assert response.status_code == 418
    body = response.json()
    assert (body["code"], body["detail"], body["spout"]) == ("teapot", "short and stout", "left")
    missing = await client.get("/_test/missing")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_unhandled_error_is_500_without_internals(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/_test/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "internal_error"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert tracebacks(caplog), "a real failure is logged with its traceback for the operator"
    assert "hunter2" not in str([r.msg for r in caplog.records]), "but not with its message"


async def test_request_id_generated_and_echoed(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    unsafe = await client.get("/nope", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


async def test_request_log_carries_request_id_and_no_body(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await client.post(
        "/_test/notes", json={"title": "diary", "mood": 3}, headers={"X-Request-ID": "req-42"}
    )
    events = [
        r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "request"
    ]
    assert events
    assert events[-1]["request_id"] == "req-42"
    assert events[-1]["status"] == 201
    assert all("diary" not in str(record.msg) for record in caplog.records)


async def test_openapi_and_docs_served(client: httpx.AsyncClient) -> None:
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/readyz" in spec.json()["paths"]
    assert (await client.get("/docs")).status_code == 200
