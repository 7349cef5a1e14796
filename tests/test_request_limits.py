"""Request size limits answer problem+json: on the wire, where uvicorn refuses a request before
the app sees it, and in the app, for a body that comes chunked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from uvicorn.importer import import_from_string

from diarist.config import Settings
from diarist.kit.http_protocol import ProblemHttpToolsProtocol
from diarist.kit.middleware import MAX_HEADER_BYTES, MAX_REQUEST_TARGET_BYTES
from diarist.supervisor import ServeOptions, api_command
from tests.factories.accounts import Account, signed_up
from tests.fixtures.http_server import RawResponse, exchange, serving

PROBLEM = "application/problem+json"
MIB = 1024 * 1024
HOST = b"Host: diarist.test\r\n"


@pytest.fixture
async def port(app: FastAPI) -> AsyncIterator[int]:
    async with serving(app) as serving_port:
        yield serving_port


def _problem(response: RawResponse | httpx.Response) -> tuple[int, str]:
    status = response.status if isinstance(response, RawResponse) else response.status_code
    assert response.headers["content-type"] == PROBLEM, (status, response.headers)
    return status, response.json()["code"]


def _get(target: bytes, *headers: bytes) -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\n" + HOST + b"".join(headers) + b"\r\n"


def _json_text(size: int) -> list[bytes]:
    """An entry whose text is `size` bytes, in 64 KiB pieces."""
    piece = 64 * 1024
    return [
        b'{"raw_data": {"text": "',
        *(b"y" * min(piece, size - start) for start in range(0, size, piece)),
        b'"}}',
    ]


def _chunked(parts: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        pytest.param(_get(b"/api/v1/entries?q=" + b"a" * 100_000), (414, "uri_too_long"),
                     id="100KB_query_string"),
        pytest.param(_get(b"/" + b"p" * 100_000), (414, "uri_too_long"), id="100KB_path"),
        pytest.param(_get(b"/healthz", *(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1024)
                                         for i in range(100))),
                     (431, "headers_too_large"), id="100_headers_of_1KB"),
        pytest.param(_get(b"/healthz", b"X-Pad: " + b"p" * MIB + b"\r\n"),
                     (431, "headers_too_large"), id="one_1MB_header"),
        pytest.param(_get(b"/healthz", b"X-Note: a\x01b\r\n"), (400, "malformed_request"),
                     id="control_character_in_header_value"),
        pytest.param(b"GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n", (400, "malformed_request"),
                     id="space_in_header_name"),
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
                     (400, "malformed_request"), id="not_http_at_all"),
    ],
)  # fmt: skip
async def test_requests_the_http_server_refuses_are_problems(
    port: int, request_bytes: bytes, expected: tuple[int, str]
) -> None:
    response = await exchange(port, request_bytes)
    assert _problem(response) == expected
    assert response.headers["connection"] == "close"
    assert response.json()["status"] == expected[0]


async def test_requests_at_the_limits_are_served(port: int) -> None:
    host_bytes = len("host") + len("diarist.test")
    padding = MAX_HEADER_BYTES - host_bytes - len("x-pad")
    target = b"/healthz?pad="
    target += b"t" * (MAX_REQUEST_TARGET_BYTES - len(target))
    at_limits = await exchange(port, _get(target, b"X-Pad: " + b"p" * padding + b"\r\n"))
    assert (at_limits.status, at_limits.json()) == (200, {"status": "ok"})

    one_more = await exchange(port, _get(target + b"t"))
    assert _problem(one_more) == (414, "uri_too_long")
    one_more = await exchange(port, _get(b"/healthz", b"X-Pad: " + b"p" * (padding + 1) + b"\r\n"))
    assert _problem(one_more) == (431, "headers_too_large")


async def test_a_chunked_body_over_the_limit_is_413_on_the_wire(port: int) -> None:
    head = (
        b"POST /api/v1/entries HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    response = await exchange(port, head, _chunked(_json_text(3 * MIB)))
    assert _problem(response) == (413, "payload_too_large")


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def _count_entries(client: httpx.AsyncClient, me: Account) -> int:
    page = await client.get("/api/v1/entries", headers=me.auth)
    assert page.status_code == 200, page.text
    return len(page.json()["items"])


async def test_a_chunked_body_over_the_limit_is_413_and_nothing_written(
    client: httpx.AsyncClient, me: Account
) -> None:
    async def stream(parts: list[bytes]) -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    headers = {**me.auth, "Content-Type": "application/json"}
    huge = await client.post(
        "/api/v1/entries", content=stream(_json_text(3 * MIB)), headers=headers
    )
    assert "content-length" not in huge.request.headers
    assert _problem(huge) == (413, "payload_too_large")
    assert await _count_entries(client, me) == 0

    small = await client.post("/api/v1/entries", content=stream(_json_text(10)), headers=headers)
    assert small.status_code == 201, small.text
    assert await _count_entries(client, me) == 1


async def test_limits_hold_behind_any_server(client: httpx.AsyncClient) -> None:
    """The app checks the request head itself too (`uvicorn diarist.app:create_app`, h11…)."""
    long_query = await client.get("/healthz", params={"pad": "t" * MAX_REQUEST_TARGET_BYTES})
    assert _problem(long_query) == (414, "uri_too_long")
    big_headers = await client.get("/healthz", headers={"X-Pad": "p" * MAX_HEADER_BYTES})
    assert _problem(big_headers) == (431, "headers_too_large")
    assert (await client.get("/healthz", params={"pad": "t" * 1000})).status_code == 200


def test_diarist_serve_runs_uvicorn_with_the_problem_protocol(settings: Settings) -> None:
    command = api_command(settings, ServeOptions(workers=1, with_worker=False))
    protocol = import_from_string(command[command.index("--http") + 1])
    assert protocol is ProblemHttpToolsProtocol
