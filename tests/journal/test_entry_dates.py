"""Entry dates are bounded to years a journal can mean (1900-2200)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories.accounts import signed_up
from tests.factories.journal import create_entry, markdown


@pytest.mark.parametrize(
    "fields",
    [
        {"entry_date": "0001-01-01T03:00:00Z", "timezone": "America/Los_Angeles"},
        {"entry_date": "9999-12-31T20:00:00Z"},
        {"entry_date": "1899-12-31T12:00:00Z"},
        {"entry_date": "2201-01-01T00:00:00Z"},
        {"published_at": "0001-01-01T00:00:00Z", "visibility": "public"},
    ],
)
async def test_dates_outside_1900_to_2200_are_refused(
    client: httpx.AsyncClient, fields: dict[str, str]
) -> None:
    me = await signed_up(client)
    created = await client.post(
        "/api/v1/entries", json={"raw_data": markdown("Far away."), **fields}, headers=me.auth
    )
    assert (created.status_code, created.json()["code"]) == (422, "validation_error")
    entry = await create_entry(client, me.auth, "Near.", entry_date="2200-12-31T12:00:00Z")
    updated = await client.patch(f"/api/v1/entries/{entry['id']}", json=fields, headers=me.auth)
    assert (updated.status_code, updated.json()["code"]) == (422, "validation_error")
    ok = await client.patch(
        f"/api/v1/entries/{entry['id']}", json={"entry_date": "1900-01-01T12:00:00Z"},
        headers=me.auth,
    )  # fmt: skip
    assert ok.status_code == 200, ok.text
