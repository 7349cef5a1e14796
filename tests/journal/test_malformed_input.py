"""Malformed input is refused with a 4xx problem, never a 500: NUL characters anywhere, blank
names, forged cursors, over-deep JSON filters, out-of-range revision numbers; odd but valid
input (mixed offsets in a range, a table block with non-text cells) is accepted."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.factories.accounts import Account, signed_up


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


@pytest.mark.parametrize("path", ["/api/v1/tags?q=a%00b", "/api/v1/entries?tag=a%00b"])
async def test_nul_characters_in_a_query_are_refused(
    client: httpx.AsyncClient, me: Account, path: str
) -> None:
    assert _code(await client.get(path, headers=me.auth)) == (422, "validation_error")


@pytest.mark.parametrize(
    "payload",
    [
        {"raw_data": {"text": "x"}, "title": "a\u0000b"},
        {"raw_data": {"text": "x\u0000"}},
        {"raw_data": {"te\u0000xt": "x"}},
        {"raw_data": {"text": "x"}, "metadata": {"source": "\u0000"}},
        {"raw_data": {"text": "x"}, "tags": ["a\u0000"]},
    ],
)
async def test_nul_characters_are_refused(
    client: httpx.AsyncClient, me: Account, payload: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/entries", json=payload, headers=me.auth)
    assert _code(response) == (422, "validation_error")


async def test_nul_in_filters_and_names(client: httpx.AsyncClient, me: Account) -> None:
    response = await client.get(
        "/api/v1/entries", params={"metadata_contains": '{"a": "\\u0000"}'}, headers=me.auth
    )
    assert response.status_code == 422
    named = await client.post(
        "/api/v1/auth/register",
        json={"email": "nul@example.org", "name": "a\u0000", "password": "amber-falcon-river-92"},
    )
    assert _code(named) == (422, "validation_error")


async def test_blank_names_are_refused(client: httpx.AsyncClient, me: Account) -> None:
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "blank@example.org", "name": "   ", "password": "amber-falcon-river-92"},
    )
    assert _code(registered) == (422, "validation_error")
    assert _code(await client.patch("/api/v1/me", json={"name": "  "}, headers=me.auth)) == (
        422,
        "validation_error",
    )
    token = await client.post("/api/v1/auth/tokens", json={"name": "   "}, headers=me.auth)
    assert _code(token) == (422, "validation_error")
    tag = await client.post("/api/v1/tags", json={"name": "   "}, headers=me.auth)
    assert _code(tag) == (422, "validation_error")


async def test_more_malformed_input_is_4xx(client: httpx.AsyncClient, me: Account) -> None:
    forged = base64.urlsafe_b64encode(b'["abc"]').decode().rstrip("=")
    events = await client.get(f"/api/v1/me/security-events?cursor={forged}", headers=me.auth)
    assert _code(events) == (400, "invalid_cursor")
    mixed = await client.get(
        "/api/v1/entries",
        params={"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00"},
        headers=me.auth,
    )
    assert mixed.status_code == 200
    deep = await client.get(
        "/api/v1/entries", params={"raw_data_contains": "[" * 2000}, headers=me.auth
    )
    assert _code(deep) == (422, "invalid_entry")
    table = {"blocks": [{"id": "t", "type": "table", "data": {"content": [5, None, ["ok"]]}}]}
    created = await client.post("/api/v1/entries", json={"raw_data": table}, headers=me.auth)
    assert created.status_code == 201
    assert created.json()["excerpt"] == "ok"
    huge = await client.get(
        f"/api/v1/entries/{created.json()['id']}/revisions/99999999999", headers=me.auth
    )
    assert huge.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        b'{"raw_data": {"text": "x", "n": NaN}}',
        b'{"raw_data": {"text": "x", "n": Infinity}}',
        b'{"raw_data": {"text": "x", "n": -Infinity}}',
        b'{"raw_data": {"text": "x", "n": 1e999}}',
        b'{"raw_data": {"text": "x"}, "metadata": {"n": NaN}}',
        b'{"raw_data": {"text": "a\\ud800b"}}',
        b'{"raw_data": {"te\\udfffxt": "x"}}',
        b'{"raw_data": {"text": "x"}, "metadata": {"s": "\\ud800"}}',
    ],
)
async def test_values_postgresql_cannot_store_are_refused(
    client: httpx.AsyncClient, me: Account, body: bytes
) -> None:
    response = await client.post(
        "/api/v1/entries",
        content=body,
        headers={**me.auth, "Content-Type": "application/json"},
    )
    assert _code(response) == (422, "validation_error")
    listed = await client.get("/api/v1/entries", headers=me.auth)
    assert listed.json()["items"] == [], "nothing half-written"


async def test_a_paired_surrogate_is_an_ordinary_character(
    client: httpx.AsyncClient, me: Account
) -> None:
    response = await client.post(
        "/api/v1/entries",
        content=b'{"raw_data": {"text": "a \\ud83d\\ude00 day"}}',
        headers={**me.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Factory"])
async def test_zone_files_that_are_no_zone_are_refused(
    client: httpx.AsyncClient, me: Account, zone: str
) -> None:
    patched = await client.patch(
        "/api/v1/me", json={"preferences": {"timezone": zone}}, headers=me.auth
    )
    assert patched.status_code == 422
    created = await client.post(
        "/api/v1/entries", json={"raw_data": {"text": "x"}, "timezone": zone}, headers=me.auth
    )
    assert _code(created) == (422, "validation_error")


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/entries?to=0", "to"),
        ("/api/v1/entries?from=1700000000", "from"),
        ("/api/v1/entries?from=20240501", "from"),
        ("/api/v1/search?q=walk&to=0", "to"),
        ("/api/v1/search?q=walk&now=1.5e9", "now"),
        ("/api/v1/insights/mood?from=0", "from"),
        ("/api/v1/insights/writing?to=86400", "to"),
        ("/api/v1/insights/on-this-day?date=0", "date"),
    ],
)
async def test_a_number_is_no_date_in_a_query(
    client: httpx.AsyncClient, me: Account, path: str, parameter: str
) -> None:
    """Pydantic would read `0` as 1 January 1970: dates are ISO 8601 strings only."""
    response = await client.get(path, headers=me.auth)
    assert _code(response) == (422, "validation_error")
    assert [err["loc"][-1] for err in response.json()["errors"]] == [parameter]


async def test_iso_dates_in_a_query_still_work(client: httpx.AsyncClient, me: Account) -> None:
    for path in (
        "/api/v1/entries?from=2024-05-01&to=2024-06-01T00:00:00Z",
        "/api/v1/insights/on-this-day?date=2024-05-01",
        "/api/v1/insights/mood?from=2024-05-01",
    ):
        assert (await client.get(path, headers=me.auth)).status_code == 200, path


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mood_rating": True}, "mood_rating"),
        ({"mood_rating": "5"}, "mood_rating"),
        ({"entry_date": 0}, "entry_date"),
        ({"entry_date": "1700000000"}, "entry_date"),
        ({"metadata": {"location": {"lat": True, "lng": 1}}}, "metadata"),
    ],
)
async def test_booleans_and_numbers_do_not_pass_for_other_types(
    client: httpx.AsyncClient, me: Account, fields: dict[str, Any], field: str
) -> None:
    body = {"raw_data": {"text": "x"}, **fields}
    response = await client.post("/api/v1/entries", json=body, headers=me.auth)
    assert _code(response) == (422, "validation_error")
    assert [err["loc"][1] for err in response.json()["errors"]] == [field]
    listed = await client.get("/api/v1/entries", headers=me.auth)
    assert listed.json()["items"] == [], "nothing half-written"


async def test_booleans_are_no_numbers_in_other_bodies(
    client: httpx.AsyncClient, me: Account
) -> None:
    token = await client.post(
        "/api/v1/auth/tokens", json={"name": "cli", "expires_in_days": True}, headers=me.auth
    )
    assert _code(token) == (422, "validation_error")
    tags = [
        (await client.post("/api/v1/tags", json={"name": name}, headers=me.auth)).json()["id"]
        for name in ("sea", "lake")
    ]
    related = await client.post(
        f"/api/v1/tags/{tags[0]}/relationships",
        json={"related_tag_id": tags[1], "kind": "related", "strength": True},
        headers=me.auth,
    )
    assert _code(related) == (422, "validation_error")
    created = await client.post(
        "/api/v1/entries", json={"raw_data": {"text": "x"}, "mood_rating": 7}, headers=me.auth
    )
    assert created.json()["mood_rating"] == 7


@pytest.mark.parametrize(
    ("raw_data", "field"),
    [
        ({"text": 123}, "raw_data.text"),
        ({"text": None}, "raw_data.text"),
        ({"text": ["a", "b"]}, "raw_data.text"),
        ({"format": "text", "text": True}, "raw_data.text"),
        ({"format": "markdown", "text": 5}, "raw_data.text"),
        (
            {"blocks": [{"id": "a", "type": "paragraph", "data": {"text": 5}}]},
            "raw_data.blocks[0].data.text",
        ),
        (
            {"blocks": [{"id": "a", "type": "list", "data": {"items": [{"content": 7}]}}]},
            "raw_data.blocks[0].data.items[0].content",
        ),
        (
            {"blocks": [{"id": "a", "type": "code", "data": {"code": {"x": 1}}}]},
            "raw_data.blocks[0].data.code",
        ),
    ],
)
async def test_a_text_field_that_is_no_string_is_refused(
    client: httpx.AsyncClient, me: Account, raw_data: dict[str, Any], field: str
) -> None:
    """Not stringified, not dropped: a recognised text field must hold text."""
    response = await client.post("/api/v1/entries", json={"raw_data": raw_data}, headers=me.auth)
    assert _code(response) == (422, "invalid_raw_data")
    assert response.json()["field"] == field
    listed = await client.get("/api/v1/entries", headers=me.auth)
    assert listed.json()["items"] == [], "nothing half-written"


async def test_a_text_field_that_is_no_string_is_refused_on_update(
    client: httpx.AsyncClient, me: Account
) -> None:
    created = await client.post(
        "/api/v1/entries", json={"raw_data": {"text": "kept"}}, headers=me.auth
    )
    entry = f"/api/v1/entries/{created.json()['id']}"
    patched = await client.patch(entry, json={"raw_data": {"text": 1}}, headers=me.auth)
    assert _code(patched) == (422, "invalid_raw_data")
    assert (await client.get(entry, headers=me.auth)).json()["raw_data"] == {"text": "kept"}
