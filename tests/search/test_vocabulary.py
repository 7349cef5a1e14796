"""The per-user vocabulary follows the entries; languages get their own text configuration."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import act_as
from tests.factories.accounts import signed_up
from tests.factories.journal import create_entry, markdown


async def _words(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    await act_as(session, user_id)
    rows = await session.execute(
        text("SELECT word, entry_count FROM user_words WHERE user_id = :u"), {"u": user_id}
    )
    return {row[0]: row[1] for row in rows}


async def test_vocabulary_follows_edits_and_purges(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me = await signed_up(client)
    user_id = uuid.UUID((await client.get("/api/v1/me", headers=me.auth)).json()["id"])
    first = await create_entry(client, me.auth, "Quiet harbour, quiet boats")
    await create_entry(client, me.auth, "A quiet evening")
    words = await _words(session, user_id)
    assert words["quiet"] == 2
    assert words["harbour"] == 1
    assert "a" not in words, "words shorter than three letters are left out"

    await client.patch(
        f"/api/v1/entries/{first['id']}",
        json={"raw_data": markdown("Loud harbour")},
        headers=me.auth,
    )
    words = await _words(session, user_id)
    assert (words["quiet"], words["loud"], words["harbour"]) == (1, 1, 1)
    assert "boats" not in words

    await client.delete(f"/api/v1/entries/{first['id']}/purge", headers=me.auth)
    words = await _words(session, user_id)
    assert "harbour" not in words
    assert words == {"quiet": 1, "evening": 1}


async def test_language_preference_picks_an_accent_insensitive_configuration(
    client: httpx.AsyncClient,
) -> None:
    me = await signed_up(client)
    await client.patch("/api/v1/me", json={"preferences": {"language": "de"}}, headers=me.auth)
    await create_entry(
        client, me.auth, "Herr Müller kaufte Äpfel im Gärtnereimarkt.", title="Markt"
    )
    for query in ("Muller", "müller", "Apfel"):
        found = await client.get("/api/v1/search", params={"q": query}, headers=me.auth)
        assert [hit["title"] for hit in found.json()["items"]] == ["Markt"], query


@pytest.mark.parametrize(
    ("language", "config"),
    [
        ("en", "english"),
        ("EN-gb", "english"),
        ("", "english"),
        (None, "english"),
        ("de-CH", "diarist_german"),
        ("nb", "diarist_norwegian"),
        ("pt-BR", "diarist_portuguese"),
        ("xx", "diarist_simple"),
        ("ja", "diarist_simple"),
    ],
)
async def test_a_language_names_its_text_configuration(
    session: AsyncSession, language: str | None, config: str
) -> None:
    found = await session.scalar(
        text("SELECT diarist_search_config(:language)::text"), {"language": language}
    )
    assert found == config
