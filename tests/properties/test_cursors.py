"""Cursors: what the server issues decodes to what it encoded; any other string, forged or
mangled, is an InvalidCursor (a 400), never another exception (a 500)."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from diarist.journal.service import entry_cursor, parse_entry_cursor
from diarist.kit.pagination import InvalidCursor, decode_cursor, encode_cursor
from diarist.models import Entry
from tests.factories.accounts import Account, signed_up
from tests.properties import PROPERTIES

ORDERS = ["created_at", "entry_date", "updated_at"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# JSON a cursor might hold: what the server writes, near misses, and structures nested past
# what a recursive decoder survives.
_json_text = st.one_of(
    st.lists(st.text(max_size=30), max_size=4).map(
        lambda values: "[" + ",".join(f'"{v}"' for v in values) + "]"
    ),
    st.integers(0, 5000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(0, 5000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
    st.sampled_from(["null", "1", '"x"', "{}", "[1, 2, 3]", "[null, true, 1.5]", "["]),
)
any_cursor = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(_b64),
    _json_text.map(lambda text: _b64(text.encode())),
    _json_text.map(lambda text: base64.b64encode(text.encode()).decode()),
)


@settings(PROPERTIES, max_examples=300)
@given(values=st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_a_cursor_decodes_to_what_was_encoded(values: list[str]) -> None:
    cursor = encode_cursor(*values)
    assert re.fullmatch(r"[A-Za-z0-9_-]*", cursor), "cursors travel in URLs as they are"
    assert decode_cursor(cursor, len(values)) == values


@settings(PROPERTIES, max_examples=400)
@given(cursor=any_cursor, parts=st.integers(1, 4))
@example(cursor=_b64(b"[" * 3000), parts=3)  # was a RecursionError: a 500
def test_any_string_decodes_or_is_an_invalid_cursor(cursor: str, parts: int) -> None:
    try:
        values = decode_cursor(cursor, parts)
    except InvalidCursor:
        return
    assert len(values) == parts
    assert all(isinstance(value, str) for value in values)


_instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
)


@settings(PROPERTIES, max_examples=200)
@given(
    instant=_instants,
    entry_id=st.uuids(),
    order=st.sampled_from(ORDERS),
    deleted=st.booleans(),
    other=st.sampled_from(ORDERS),
)
def test_an_entry_cursor_names_the_row_it_was_made_from(
    instant: datetime, entry_id: uuid.UUID, order: str, deleted: bool, other: str
) -> None:
    entry = Entry(id=entry_id, created_at=instant, entry_date=instant, updated_at=instant)
    entry.deleted_at = instant if deleted else None
    cursor = entry_cursor(entry, order, deleted)
    assert parse_entry_cursor(cursor, order, deleted) == (instant, entry_id)
    if other != order and not deleted:
        with pytest.raises(InvalidCursor):
            parse_entry_cursor(cursor, other, deleted)
    with pytest.raises(InvalidCursor):
        parse_entry_cursor(cursor, order, not deleted)


@settings(PROPERTIES, max_examples=300)
@given(
    cursor=st.one_of(
        any_cursor,
        st.tuples(
            st.sampled_from([*ORDERS, "trash"]), st.text(max_size=40), st.text(max_size=40)
        ).map(lambda parts: encode_cursor(*parts)),
    ),
    order=st.sampled_from(ORDERS),
    deleted=st.booleans(),
)
def test_any_string_is_an_entry_cursor_or_an_invalid_one(
    cursor: str, order: str, deleted: bool
) -> None:
    try:
        after, entry_id = parse_entry_cursor(cursor, order, deleted)
    except InvalidCursor:
        return
    assert isinstance(after, datetime)
    assert isinstance(entry_id, uuid.UUID)


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


@settings(PROPERTIES, max_examples=60)
@given(cursor=any_cursor, path=st.sampled_from(["/api/v1/entries", "/api/v1/me/security-events"]))
@example(cursor=_b64(b"[" * 3000), path="/api/v1/entries")
@example(cursor=_b64(b"[" * 3000), path="/api/v1/me/security-events")
@example(cursor=encode_cursor("created_at", "2024-05-01", uuid.UUID(int=1)), path="/api/v1/entries")
async def test_the_api_answers_any_cursor_with_a_page_or_a_400(
    client: httpx.AsyncClient, me: Account, cursor: str, path: str
) -> None:
    response = await client.get(path, params={"cursor": cursor}, headers=me.auth)
    # 414: a cursor that makes the URL longer than the server reads.
    assert response.status_code in (200, 400, 414, 422), response.text
    if response.status_code == 400:
        assert response.json()["code"] == "invalid_cursor"
