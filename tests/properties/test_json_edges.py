"""JSON numbers and strings at their edges, through the API: a body is either stored, and read
back as it was sent, or refused with a 422 problem; never a 500. NaN, Infinity and 1e999 (which
Python's JSON reads as infinite), NUL and unpaired surrogates are what PostgreSQL cannot store:
`find_unstorable` must turn each into a 422 wherever it hides."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from diarist.kit.validation import find_unstorable
from tests.factories.accounts import Account, signed_up
from tests.properties import PROPERTIES

# Number tokens as a client may write them, and their extremes.
_numbers = st.one_of(
    st.integers().map(str),
    st.integers(min_value=-(2**200), max_value=2**200).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda x: json.dumps(x, allow_nan=True)),
    st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(
        ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "-0", "-0.0", "0e0",
         "1.7976931348623157e308", "1.7976931348623159e308", "5e-324", "2.5e-324",
         str(2**63), str(-(2**63) - 1), str(2**64), "9" * 1000]
    ),
)  # fmt: skip
# String tokens: any text, JSON-escaped, with the escapes that hurt spliced in.
_escapes = ["\\u0000", "\\ud800", "\\udfff", "\\ud83d\\ude00", "\\ude00\\ud83d", "\\u2028"]
_escapes += ["\\uffff", "\\\\", '\\"', "\\/", "\\b\\f\\n\\r\\t", "\\u00e9", "\\u0007"]
_strings = st.lists(
    st.one_of(
        st.text(max_size=20).map(lambda text: json.dumps(text)[1:-1]),
        st.sampled_from(_escapes),
    ),
    max_size=5,
).map(lambda pieces: '"' + "".join(pieces) + '"')
_values = st.recursive(
    st.one_of(_numbers, _strings, st.sampled_from(["true", "false", "null"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(_strings, inner), max_size=4).map(
            lambda pairs: "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
        ),
    ),
    max_leaves=12,
)
# Where a value goes in an entry: each field that takes any JSON, a string or a number.
_TEMPLATES = [
    '{"raw_data": {"text": "a walk", "extra": %s}}',
    '{"raw_data": {"text": %s}}',
    '{"raw_data": {"format": "markdown", "text": %s}}',
    '{"raw_data": {"blocks": [{"id": "b", "type": "paragraph", "data": {"text": %s}}]}}',
    '{"raw_data": {"blocks": [{"id": "b", "type": "image", "data": %s}]}}',
    '{"raw_data": {"text": "a walk"}, "metadata": {"k": %s}}',
    '{"raw_data": {"text": "a walk"}, "metadata": {"location": {"lat": %s, "lng": 1}}}',
    '{"raw_data": {"text": "a walk"}, "title": %s}',
    '{"raw_data": {"text": "a walk"}, "mood_rating": %s}',
    '{"raw_data": {"text": "a walk"}, "tags": [%s]}',
]
bodies = st.tuples(st.sampled_from(_TEMPLATES), _values).map(lambda pair: pair[0] % pair[1])


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


def _same(read: Any, sent: Any) -> bool:
    """The same JSON value, numbers compared as the doubles a client reads them as (the app
    parses 1.7976931348623157e308 as a double, PostgreSQL hands back all 309 digits of it)."""
    if isinstance(sent, dict):
        return (
            isinstance(read, dict)
            and read.keys() == sent.keys()
            and all(_same(read[key], value) for key, value in sent.items())
        )
    if isinstance(sent, list):
        return (
            isinstance(read, list)
            and len(read) == len(sent)
            and all(_same(a, b) for a, b in zip(read, sent, strict=True))
        )
    numbers = (int, float)
    if isinstance(sent, numbers) and not isinstance(sent, bool) and type(read) is not type(sent):
        return isinstance(read, numbers) and not isinstance(read, bool) and float(read) == sent
    return type(read) is type(sent) and bool(read == sent)


def _json_headers(me: Account) -> dict[str, str]:
    return {**me.auth, "Content-Type": "application/json"}


@settings(PROPERTIES, max_examples=250)
@given(body=bodies)
@example(body='{"raw_data": {"text": "a walk", "extra": NaN}}')
@example(body='{"raw_data": {"text": "a walk", "extra": [1e999]}}')
@example(body='{"raw_data": {"text": "a walk"}, "metadata": {"k": {"\\u0000": 1}}}')
@example(body='{"raw_data": {"text": "\\ud800"}}')
@example(body='{"raw_data": {"text": "a walk"}, "mood_rating": 5.0}')
async def test_an_entry_is_stored_as_sent_or_refused(
    client: httpx.AsyncClient, me: Account, body: str
) -> None:
    sent = json.loads(body)
    created = await client.post("/api/v1/entries", content=body, headers=_json_headers(me))
    assert created.status_code in (201, 422), created.text
    if created.status_code == 422:
        assert created.headers["content-type"] == "application/problem+json"
        return
    assert not find_unstorable(sent), "stored what PostgreSQL cannot hold"
    entry = created.json()
    fetched = await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)
    assert fetched.status_code == 200
    assert _same(fetched.json()["raw_data"], sent["raw_data"])
    if "metadata" in sent:
        assert _same(fetched.json()["metadata"], sent["metadata"])


@settings(PROPERTIES, max_examples=150)
@given(value=_values, name=st.sampled_from(["raw_data_contains", "metadata_contains"]))
@example(value='{"k": NaN}', name="raw_data_contains")
@example(value='{"k": "\\ud800"}', name="metadata_contains")
async def test_a_json_filter_matches_or_is_refused(
    client: httpx.AsyncClient, me: Account, value: str, name: str
) -> None:
    response = await client.get("/api/v1/entries", params={name: value}, headers=me.auth)
    # 414: a value longer than a URL may be.
    assert response.status_code in (200, 414, 422), response.text


@settings(PROPERTIES, max_examples=100)
@given(value=st.one_of(_numbers, _strings))
async def test_an_edge_value_in_any_field_of_a_patch_is_stored_or_refused(
    client: httpx.AsyncClient, me: Account, value: str
) -> None:
    created = await client.post(
        "/api/v1/entries", json={"raw_data": {"text": "a walk"}}, headers=me.auth
    )
    url = f"/api/v1/entries/{created.json()['id']}"
    for field in ("title", "mood_rating", "raw_data", "metadata", "timezone", "entry_date"):
        body = '{"%s": %s}' % (field, value)  # noqa: UP031
        response = await client.patch(url, content=body, headers=_json_headers(me))
        assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize(
    "value",
    ["9" * 4301, "[" * 3000 + "]" * 3000],
    ids=["an integer of more than 4300 digits", "nested 3000 deep"],
)
async def test_json_beyond_what_python_reads_is_a_400(
    client: httpx.AsyncClient, me: Account, value: str
) -> None:
    """Valid JSON that Python's parser refuses (its int-string limit, its stack): FastAPI's
    400 `bad_request`, documented on every body, not a 500."""
    body = '{"raw_data": {"text": "a walk", "extra": %s}}' % value  # noqa: UP031
    response = await client.post("/api/v1/entries", content=body, headers=_json_headers(me))
    assert (response.status_code, response.json()["code"]) == (400, "bad_request")
