"""The OpenAPI document is a contract: it changes only on purpose.

The committed copy (`docs/openapi.json`) is what clients are generated from. A change to it is
made by running `python -m tests.test_openapi` and committing the new file with the change that
explains it.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from diarist.app import create_app
from diarist.config import Environment, Settings
from diarist.kit.responses import Problem
from tests.factories.accounts import signed_up

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def render_openapi() -> str:
    """The app's OpenAPI document as committed: indented, keys sorted (JSON objects have no
    order, and a route moved between routers must not look like an API change)."""
    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        secret_key="openapi-snapshot-secret-key-0123456789abcdef",
    )
    return (
        json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False, sort_keys=True)
        + "\n"
    )


def test_openapi_document_matches_the_committed_copy() -> None:
    assert render_openapi() == SNAPSHOT.read_text(encoding="utf-8"), (
        "The OpenAPI document changed. If on purpose, run `python -m tests.test_openapi` and "
        "commit docs/openapi.json."
    )


# Ends the session of the token the walk uses: walked last.
_ENDS_MY_SESSION = {("POST", "/api/v1/auth/logout")}
_PARAM = re.compile(r"\{(\w+)\}")


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]
    return sorted(found, key=lambda op: ((op[0], op[1]) in _ENDS_MY_SESSION, op[1], op[0]))


def _fill(path: str) -> str:
    """The path with every parameter set: ids of nothing, version 1."""
    return _PARAM.sub(lambda m: "1" if m.group(1) == "version" else str(uuid.uuid4()), path)


def _check_documented(
    method: str, path: str, operation: dict[str, Any], response: httpx.Response
) -> None:
    where = f"{method} {path} answered {response.status_code}"
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{where}, which its OpenAPI operation does not list"
    media_type = response.headers.get("content-type", "").split(";")[0]
    content = documented.get("content", {})
    if not content:
        assert response.content == b"", f"{where} with a body documented as none"
        return
    assert media_type in content, f"{where} as {media_type}, documented as {sorted(content)}"
    if media_type == "application/problem+json":
        Problem.model_validate(response.json())
    for header in documented.get("headers", {}):
        assert header in response.headers, f"{where} without its documented {header}"


async def test_what_every_operation_answers_is_documented(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Walk every operation with requests that go wrong in the usual ways (no credentials,
    ids of nothing, an empty, malformed or oversized body): each status, media type and problem
    body must be the documented one."""
    me = await signed_up(client)
    limit = app.state.settings.journal.max_request_bytes
    document = app.openapi()
    for method, path, operation in _operations(document):
        url = _fill(path)
        has_body = "requestBody" in operation
        attempts: list[dict[str, Any]] = [{}, {"headers": me.auth}]
        if has_body:
            attempts = [
                {"json": {}},
                {"json": {}, "headers": me.auth},
                {"content": b"{not json", "headers": me.auth},
                {"content": b" " * (limit + 1), "headers": me.auth},
            ]
        for attempt in attempts:
            headers = {"Content-Type": "application/json"} if has_body else {}
            headers |= attempt.pop("headers", {})
            response = await client.request(method, url, headers=headers, **attempt)
            _check_documented(method, path, operation, response)


async def test_answers_of_an_entry_are_documented(app: FastAPI, client: httpx.AsyncClient) -> None:
    """The successes the walk cannot reach: a first write and its replay (same
    `Idempotency-Key`, same body: 200 and `Idempotent-Replayed`), and a queued analysis (202,
    no body)."""
    me = await signed_up(client)
    operations = app.openapi()["paths"]
    create = operations["/api/v1/entries"]["post"]
    headers = {**me.auth, "Idempotency-Key": "walk-1"}
    body = {"raw_data": {"text": "A walk by the river."}}
    first = await client.post("/api/v1/entries", json=body, headers=headers)
    replay = await client.post("/api/v1/entries", json=body, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    _check_documented("POST", "/api/v1/entries", create, first)
    _check_documented("POST", "/api/v1/entries", create, replay)
    assert "Idempotent-Replayed" in create["responses"]["200"]["headers"]
    path = "/api/v1/entries/{entry_id}/analyze"
    analyzed = await client.post(path.format(entry_id=first.json()["id"]), headers=me.auth)
    assert analyzed.status_code == 202
    _check_documented("POST", path, operations[path]["post"], analyzed)


if __name__ == "__main__":
    SNAPSHOT.write_text(render_openapi(), encoding="utf-8")
    sys.stdout.write(f"wrote {SNAPSHOT}\n")
