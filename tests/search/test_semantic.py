"""Semantic and hybrid search, date words in queries, and why each hit matched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from diarist.db.engine import Database
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import analyze_entries, create_entry
from tests.fixtures.statements import driver_statements, sent_statements

# (title, text, tags, entry_date)
JOURNAL = [
    (
        "alone",
        "Nobody called all weekend. I ate dinner by myself and the flat felt empty and quiet.",
        ["home"],
        "2026-11-18T20:00:00Z",
    ),
    (
        "bills",
        "The rent went up again and my savings are nearly gone. I could not sleep for worry "
        "about how to pay for everything this month.",
        ["money"],
        "2026-11-10T21:00:00Z",
    ),
    (
        "tomatoes",
        "Spent the afternoon gardening. The tomatoes finally turned red.",
        ["garden"],
        "2026-03-14T17:00:00Z",
    ),
    (
        "compost",
        "Gardening club: we argued about compost and planned the spring planting.",
        ["garden"],
        "2026-11-20T19:00:00Z",
    ),
    (
        "run",
        "A long run along the river this morning; my legs were heavy but I kept going.",
        ["sport"],
        "2025-12-25T09:00:00Z",
    ),
    (
        "vet",
        "Took the dog to the vet: she had been vomiting since Tuesday. Antibiotics for a week.",
        ["pets"],
        "2026-11-23T18:00:00Z",
    ),
]
NOW = "2026-11-25T12:00:00Z"


@pytest.fixture
async def me(client: httpx.AsyncClient, database: Database) -> Account:
    account = await signed_up(client)
    for title, text, tags, when in JOURNAL:
        await create_entry(client, account.auth, text, title=title, tags=tags, entry_date=when)
    await analyze_entries(database, await user_id_of(client, account))
    return account


async def _search(client: httpx.AsyncClient, me: Account, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/search", params={"q": q, "now": NOW, **params}, headers=me.auth
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


async def test_semantic_search_finds_meaning_without_shared_words(
    client: httpx.AsyncClient, me: Account
) -> None:
    keyword = await _search(client, me, "feeling lonely", mode="keyword")
    assert keyword["items"] == []
    semantic = await _search(client, me, "feeling lonely", mode="semantic")
    assert _titles(semantic)[0] == "alone"
    top = semantic["items"][0]
    assert top["match"]["keyword"] is None
    assert top["match"]["semantic"]["rank"] == 1
    assert top["match"]["semantic"]["similarity"] == pytest.approx(top["score"])
    similarities = [item["match"]["semantic"]["similarity"] for item in semantic["items"]]
    assert similarities == sorted(similarities, reverse=True)

    worried = await _search(client, me, "worried about money", mode="semantic")
    assert _titles(worried)[0] == "bills"
    sick = await _search(client, me, "my pet was ill", mode="semantic")
    assert _titles(sick)[0] == "vet"


async def test_min_similarity_drops_weak_semantic_hits(
    client: httpx.AsyncClient, me: Account
) -> None:
    loose = await _search(client, me, "feeling lonely", mode="semantic", min_similarity=-1)
    assert len(loose["items"]) == len(JOURNAL)
    strict = await _search(client, me, "feeling lonely", mode="semantic", min_similarity=0.99)
    assert strict["items"] == []
    best = loose["items"][0]["match"]["semantic"]["similarity"]
    just = await _search(client, me, "feeling lonely", mode="semantic", min_similarity=best - 1e-6)
    assert _titles(just) == ["alone"]


async def test_hybrid_fuses_both_rankings_and_explains_each_hit(
    client: httpx.AsyncClient, me: Account
) -> None:
    body = await _search(client, me, "gardening", min_similarity=0.3)
    assert body["mode"] == "hybrid"
    assert body["degraded"] == []
    by_title = {item["title"]: item for item in body["items"]}
    # Both gardening entries are in both lists; they lead the fused ranking.
    assert set(_titles(body)[:2]) == {"tomatoes", "compost"}
    for title in ("tomatoes", "compost"):
        match = by_title[title]["match"]
        assert match["keyword"]["rank"] in (1, 2)
        assert match["semantic"]["rank"] in (1, 2)
        assert "<mark>" in by_title[title]["snippet"]
    # Reciprocal rank fusion: 1/(60 + rank) per list.
    for item in body["items"]:
        ranks = [m["rank"] for m in (item["match"]["keyword"], item["match"]["semantic"]) if m]
        assert item["score"] == pytest.approx(sum(1 / (60 + rank) for rank in ranks))
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)


async def test_hybrid_corrects_typos_on_its_keyword_side(
    client: httpx.AsyncClient, me: Account
) -> None:
    """A misspelt word's vector is near nothing: hybrid search used to answer "gardning" with
    no corrected query, and only weak neighbours or nothing at all."""
    keyword = await _search(client, me, "gardning", mode="keyword")
    body = await _search(client, me, "gardning")
    assert body["mode"] == "hybrid"
    assert body["corrected_query"] == keyword["corrected_query"] == "gardning or gardening"
    assert set(_titles(body)) == {"tomatoes", "compost"}
    for item in body["items"]:
        assert item["match"]["keyword"] is not None
        assert "<mark>" in item["snippet"]
    # A query without typos is not rewritten, and one with nothing to correct to stays empty.
    assert (await _search(client, me, "gardening"))["corrected_query"] is None
    nothing = await _search(client, me, "zzzqqq")
    assert (nothing["corrected_query"], nothing["items"]) == (None, [])


async def test_hybrid_keeps_semantic_hits_above_the_threshold_only(
    client: httpx.AsyncClient, me: Account
) -> None:
    query = "the dog was sick"  # no word matches: every hit is semantic
    loose = await _search(client, me, query, mode="semantic", min_similarity=-1)
    similarity = {i["title"]: i["match"]["semantic"]["similarity"] for i in loose["items"]}
    above = {title for title, value in similarity.items() if value >= 0.2}  # the default
    assert above, "the journal has entries on both sides of the threshold"
    assert above != set(similarity)
    body = await _search(client, me, query)
    assert set(_titles(body)) == above
    assert all(i["match"]["semantic"]["similarity"] >= 0.2 for i in body["items"])
    strict = await _search(client, me, query, min_similarity=0.5)
    assert _titles(strict) == ["vet"]


async def test_modes_share_the_timeline_filters(client: httpx.AsyncClient, me: Account) -> None:
    for mode in ("keyword", "semantic", "hybrid"):
        tagged = await _search(client, me, "gardening", mode=mode, tag="garden")
        assert set(_titles(tagged)) <= {"tomatoes", "compost"}
        assert "tomatoes" in _titles(tagged)
        dated = await _search(
            client, me, "gardening", mode=mode, **{"from": "2026-11-01T00:00:00Z"}
        )
        assert "tomatoes" not in _titles(dated)
        unknown_tag = await _search(client, me, "gardening", mode=mode, tag="nope")
        assert unknown_tag["items"] == []


async def test_date_words_become_a_filter_in_the_users_time_zone(
    client: httpx.AsyncClient, me: Account
) -> None:
    body = await _search(client, me, "gardening last week", mode="keyword")
    assert body["interpreted"]["text"] == "gardening"
    assert body["interpreted"]["date_phrase"] == "last week"
    assert body["interpreted"]["date_from"].startswith("2026-11-16T00:00:00")
    assert body["interpreted"]["date_to"].startswith("2026-11-23T00:00:00")
    assert _titles(body) == ["compost"]
    assert body["items"][0]["match"]["dates"] == "last week"

    in_march = await _search(client, me, "gardening in March", mode="keyword")
    assert _titles(in_march) == ["tomatoes"]
    christmas = await _search(client, me, "run last Christmas")
    assert _titles(christmas) == ["run"]
    # Relative to `now`: a year later "last Christmas" is another day.
    later = await _search(client, me, "run last Christmas", now="2027-11-25T12:00:00Z")
    assert later["items"] == []
    literal = await _search(client, me, "gardening in March", mode="keyword", parse_dates=False)
    assert literal["interpreted"]["date_phrase"] is None
    assert literal["items"] == []  # "march" is a word none of the entries has


async def test_a_query_of_date_words_lists_the_range(
    client: httpx.AsyncClient, me: Account
) -> None:
    body = await _search(client, me, "last week")
    assert body["interpreted"]["text"] == ""
    assert _titles(body) == ["compost", "alone"]
    assert body["items"][0]["snippet"].startswith("Gardening club")
    nothing = await _search(client, me, "last week", **{"to": "2026-11-01T00:00:00Z"})
    assert nothing["items"] == []


async def test_now_without_offset_is_the_users_wall_clock(
    client: httpx.AsyncClient, me: Account
) -> None:
    changed = await client.patch(
        "/api/v1/me", json={"preferences": {"timezone": "Pacific/Auckland"}}, headers=me.auth
    )
    assert changed.status_code == 200
    # 25 Nov 08:00 in Auckland (UTC+13): "yesterday" is 24 Nov there, from 23 Nov 11:00 UTC.
    body = await _search(client, me, "yesterday", now="2026-11-25T08:00:00")
    assert body["interpreted"]["date_from"] == "2026-11-23T11:00:00Z"
    assert body["interpreted"]["date_to"] == "2026-11-24T11:00:00Z"
    assert _titles(body) == ["vet"]  # 23 Nov 18:00 UTC is 24 Nov 07:00 in Auckland


async def test_other_users_vectors_are_never_searched(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    other = await signed_up(client)
    await create_entry(
        client, other.auth, "Nobody called; I ate alone and the flat felt empty.", title="theirs"
    )
    await analyze_entries(database, await user_id_of(client, other))
    for mode in ("semantic", "hybrid"):
        mine = await _search(client, me, "feeling lonely", mode=mode, min_similarity=-1)
        assert "theirs" not in _titles(mine)
        theirs = await _search(client, other, "feeling lonely", mode=mode, min_similarity=-1)
        assert _titles(theirs) == ["theirs"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"mode": "fuzzy"}, "mode"),
        ({"min_similarity": 2}, "min_similarity"),
        ({"now": "next tuesday"}, "now"),
        ({"now": "9999-12-31T12:00:00Z"}, "now"),
        ({"now": "0001-01-01T01:00:00+05:00"}, "now"),
        ({"parse_dates": "maybe"}, "parse_dates"),
        ({"q": ""}, "q"),
        ({"q": "x" * 501}, "q"),
    ],
)
async def test_bad_search_parameters_are_refused(
    client: httpx.AsyncClient, me: Account, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/v1/search", params={"q": "garden", **params}, headers=me.auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert field in response.text


async def test_a_query_of_blanks_is_refused(client: httpx.AsyncClient, me: Account) -> None:
    response = await client.get("/api/v1/search", params={"q": "   "}, headers=me.auth)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_entry")


async def test_without_the_embedder_hybrid_degrades_and_semantic_says_so(
    app: FastAPI, client: httpx.AsyncClient, me: Account, tmp_path: Path
) -> None:
    from diarist.search.query_embedder import QueryEmbedder

    settings = app.state.settings.model_copy(deep=True)
    settings.analysis.embedder_url = f"unix:{tmp_path / 'missing.sock'}"
    await app.state.query_embedder.close()
    app.state.query_embedder = QueryEmbedder(settings)

    hybrid = await _search(client, me, "gardening")
    assert hybrid["degraded"] == ["semantic"]
    assert {"tomatoes", "compost"} == set(_titles(hybrid))
    assert all(item["match"]["semantic"] is None for item in hybrid["items"])
    semantic = await client.get(
        "/api/v1/search", params={"q": "gardening", "mode": "semantic"}, headers=me.auth
    )
    assert semantic.status_code == 503
    assert semantic.headers["content-type"] == "application/problem+json"
    assert semantic.json()["code"] == "semantic_search_unavailable"


def _used_the_index(statements: list[str]) -> bool:
    """The HNSW path orders by the indexed expression, the vector cast to its dimension."""
    return any("AS VECTOR(384))" in s.upper() for s in statements)


async def test_the_approximate_path_finds_the_same_memories(
    app: FastAPI, client: httpx.AsyncClient, me: Account, app_engine: AsyncEngine
) -> None:
    with driver_statements() as seen:
        exact = await _search(client, me, "feeling lonely", mode="semantic", min_similarity=-1)
    assert not _used_the_index(seen)
    app.state.settings.search.exact_max_vectors = 5  # this journal has six
    with driver_statements() as seen:
        approximate = await _search(
            client, me, "feeling lonely", mode="semantic", min_similarity=-1
        )
    assert _used_the_index(seen)
    assert _titles(approximate) == _titles(exact)
    with sent_statements(app_engine) as seen:
        filtered = await _search(client, me, "feeling lonely", mode="semantic", tag="home")
    assert not _used_the_index(seen), "filters apply after the vector scan: exact"
    assert _titles(filtered) == ["alone"]
    app.state.settings.search.exact_max_vectors = 6  # not more than six: exact
    with driver_statements() as seen:
        await _search(client, me, "feeling lonely", mode="semantic")
    assert not _used_the_index(seen)


async def test_ties_break_the_same_way_on_every_page_size(
    client: httpx.AsyncClient, me: Account
) -> None:
    """Reciprocal rank fusion ties by construction (keyword rank r = semantic rank r); the
    page keeps the answer's order, newest first."""
    full = await _search(client, me, "gardening", limit=20)
    for size in range(1, len(full["items"]) + 1):
        page = await _search(client, me, "gardening", limit=size)
        assert _titles(page) == _titles(full)[:size]


async def test_a_query_of_date_words_shows_openings(client: httpx.AsyncClient, me: Account) -> None:
    exact = "x" * 239 + "y"  # exactly the snippet's length: shown whole
    await create_entry(client, me.auth, exact, title="exact", entry_date="2026-11-24T10:00:00Z")
    body = await _search(client, me, "yesterday")
    assert [item["snippet"] for item in body["items"]] == [exact]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "feeling lonely", "mode": "semantic", "min_similarity": -1},
        {"q": "feeling lonely", "mode": "semantic"},
        {"q": "gardening", "mode": "hybrid"},
        {"q": "gardenign", "mode": "hybrid"},  # a typo: the correction's trips
        {"q": "money worries", "limit": 2},
        {"q": "dog", "deleted": "true"},
    ],
)
async def test_a_plain_search_by_meaning_answers_what_the_general_path_answers(
    client: httpx.AsyncClient, me: Account, params: dict[str, Any]
) -> None:
    """Without filters or date words a search is a hot read (two round trips); a filter
    that leaves every entry in sends it down the general path, which must agree."""
    if params.get("deleted"):
        vet = next(i for i in (await _search(client, me, "vet"))["items"] if i["title"] == "vet")
        assert (await client.delete(f"/api/v1/entries/{vet['id']}", headers=me.auth)).is_success
    hot = await _search(client, me, **params)
    general = await _search(client, me, **params, date_from="1900-01-01T00:00:00Z")
    assert hot["items"], params
    assert hot == general
