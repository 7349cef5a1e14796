"""Keyword search on a small journal of real-looking entries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry

JOURNAL = [
    ("Tomatoes", "Spent the afternoon gardening. The tomatoes finally turned red.", ["garden"], 8),
    (
        "Morning run",
        "Long run along the river this morning; my knees hurt but the mood is great.",
        ["sport"],
        7,
    ),
    ("Hospital", "Visited grandma in the hospital. She remembered my name today.", ["family"], 4),
    (
        "Club night",
        "Gardening club meeting: we planned the spring planting and argued about compost.",
        ["garden"],
        6,
    ),
    (
        "Winter reading",
        "Read The Left Hand of Darkness. Winter on Gethen feels familiar.",
        ["books"],
        6,
    ),
    (
        "Coffee with Sam",
        "Coffee with Sam. We talked about moving to Berlin next year.",
        ["friends"],
        7,
    ),
    ("Rain", "Rainy day. Stayed in, baked bread and watched the rain on the window.", [], 5),
    ("Lake", "First swim of the year at the lake; the water was freezing.", ["sport"], 9),
    ("Gardening", "Weeding all morning. Gardening is slow but it empties the head.", ["garden"], 7),
]


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    account = await signed_up(client)
    for day, (title, text, tags, mood) in enumerate(JOURNAL, start=1):
        await create_entry(
            client,
            account.auth,
            text,
            title=title,
            tags=tags,
            mood_rating=mood,
            entry_date=f"2025-04-{day:02d}T20:00:00Z",
        )
    return account


async def _search(client: httpx.AsyncClient, me: Account, q: str, **params: Any) -> dict[str, Any]:
    query = {"q": q, "mode": "keyword", **params}
    response = await client.get("/api/v1/search", params=query, headers=me.auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _titles(result: dict[str, Any]) -> list[str]:
    return [hit["title"] for hit in result["items"]]


async def test_ranking_snippets_and_shape(client: httpx.AsyncClient, me: Account) -> None:
    result = await _search(client, me, "gardening")
    titles = _titles(result)
    assert set(titles) == {"Tomatoes", "Club night", "Gardening"}
    assert titles[0] == "Gardening", "a match in the title (weight A) ranks first"
    hit = result["items"][0]
    assert set(hit) == {"id", "title", "snippet", "score", "entry_date", "match"}
    assert hit["match"] == {
        "keyword": {"rank": 1, "score": hit["score"]},
        "semantic": None,
        "dates": None,
    }
    assert "<mark>Gardening</mark>" in hit["snippet"]
    assert hit["score"] > result["items"][-1]["score"]
    assert result["corrected_query"] is None


async def test_stemming(client: httpx.AsyncClient, me: Account) -> None:
    assert _titles(await _search(client, me, "runs")) == ["Morning run"]


async def test_phrase_or_and_exclusion(client: httpx.AsyncClient, me: Account) -> None:
    assert _titles(await _search(client, me, '"spring planting"')) == ["Club night"]
    assert set(_titles(await _search(client, me, "grandma or Berlin"))) == {
        "Hospital",
        "Coffee with Sam",
    }
    assert set(_titles(await _search(client, me, "gardening -club"))) == {"Tomatoes", "Gardening"}
    assert _titles(await _search(client, me, '"planting spring"')) == []


async def test_typos_are_corrected_from_my_own_words(
    client: httpx.AsyncClient, me: Account
) -> None:
    result = await _search(client, me, "gardning")
    assert set(_titles(result)) == {"Tomatoes", "Club night", "Gardening"}
    assert result["corrected_query"] == "gardning or gardening"
    frozen = await _search(client, me, "freezng lake")
    assert _titles(frozen) == ["Lake"]
    assert (await _search(client, me, "zzzqqq"))["items"] == []


async def test_a_form_of_a_word_i_wrote_is_no_typo(client: httpx.AsyncClient) -> None:
    """`worried` when I wrote `worry` and `worrying`: stemming finds them already, so the
    query is not widened with a guess (`worried or worry` matched nothing more and, in a
    longer query, widened it to anything with the guessed word)."""
    me = await signed_up(client)
    await create_entry(client, me.auth, "I worry about the exam.", title="Exam")
    await create_entry(client, me.auth, "A worrying day at work.", title="Work")
    for mode in ("keyword", "hybrid"):
        result = await _search(client, me, "worried", mode=mode)
        assert result["corrected_query"] is None, mode
        assert {"Exam", "Work"} <= set(_titles(result)), mode


async def test_filters_combine_with_the_query(client: httpx.AsyncClient, me: Account) -> None:
    assert set(_titles(await _search(client, me, "morning", tag="sport"))) == {"Morning run"}
    assert set(_titles(await _search(client, me, "morning"))) == {"Morning run", "Gardening"}
    assert _titles(await _search(client, me, "gardening", mood_min=8)) == ["Tomatoes"]
    late = await _search(client, me, "gardening", **{"from": "2025-04-05T00:00:00Z"})
    assert _titles(late) == ["Gardening"]
    assert _titles(await _search(client, me, "gardening", tag="nope")) == []


async def test_limit(client: httpx.AsyncClient, me: Account) -> None:
    assert len((await _search(client, me, "gardening", limit=2))["items"]) == 2


async def test_only_my_entries(client: httpx.AsyncClient, me: Account) -> None:
    other = await signed_up(client)
    assert (await _search(client, other, "gardening"))["items"] == []


async def test_trashed_entries_are_found_only_in_the_trash(
    client: httpx.AsyncClient, me: Account
) -> None:
    lake = (await _search(client, me, "lake"))["items"][0]
    await client.delete(f"/api/v1/entries/{lake['id']}", headers=me.auth)
    assert (await _search(client, me, "lake"))["items"] == []
    assert _titles(await _search(client, me, "lake", deleted="true")) == ["Lake"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "mode": "fuzzy"},
        {"q": ""},
        {},
        {"q": "x", "limit": 101},
        {"q": "x", "sort": "date"},
        {"q": "x" * 501},
    ],
)
async def test_bad_search_parameters(
    client: httpx.AsyncClient, me: Account, params: dict[str, Any]
) -> None:
    response = await client.get("/api/v1/search", params=params, headers=me.auth)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


async def test_search_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/search", params={"q": "x"})
    assert response.status_code == 401
