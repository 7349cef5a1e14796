"""The per-user vocabulary follows the entries: a write records the words it gains and loses,
and folding counts them in (the worker every minute, search before it reads the vocabulary).
Languages get their own text configuration."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts.service import AccountsContext
from diarist.db.engine import Database, PoolPlan, act_as, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.journal import service as entries_service
from tests.conftest import make_settings
from tests.factories.accounts import signed_up, user_id_of
from tests.factories.journal import create_entry, markdown
from tests.fixtures.live import live_app_client


async def _words(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    """The user's vocabulary with every recorded change counted in."""
    await act_as(session, user_id)
    await session.execute(text("SELECT vocabulary_fold(:u)"), {"u": user_id})
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


async def _recount(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    """The vocabulary as counted from scratch: in how many of the user's entries (live or in
    the trash) each word occurs."""
    rows = await session.execute(
        text(
            "SELECT w, count(*) FROM entries, unnest(journal_words(content)) AS w "
            "WHERE user_id = :u GROUP BY w"
        ),
        {"u": user_id},
    )
    return {row[0]: row[1] for row in rows}


async def test_a_write_records_its_words_and_counts_none(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The request's only vocabulary work is one row of the log: writers of one user never
    wait on each other's words."""
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    entry = await create_entry(client, me.auth, "Boats, quiet boats and a harbour")
    await act_as(session, user_id)
    changes = (await session.execute(text("SELECT added, removed FROM vocabulary_changes"))).all()
    assert [(sorted(added), removed) for added, removed in changes] == [
        (["and", "boats", "harbour", "quiet"], [])
    ]
    assert await session.scalar(text("SELECT count(*) FROM user_words")) == 0
    await client.patch(
        f"/api/v1/entries/{entry['id']}", json={"title": "Only the title"}, headers=me.auth
    )
    assert await session.scalar(text("SELECT count(*) FROM vocabulary_changes")) == 1, (
        "a write that keeps the text records nothing"
    )


async def test_entries_inserted_at_once_are_one_row_of_the_log(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """As an import writes them (one statement a batch): one row with every entry's words
    after one another, each counted by the fold."""
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    await act_as(session, user_id)
    await session.execute(
        text(
            "INSERT INTO entries (user_id, raw_data, format, content, content_hash)"
            " SELECT :u, jsonb_build_object('text', t), 'text', t, sha256(convert_to(t, 'UTF8'))"
            " FROM unnest(CAST(:texts AS text[])) AS t"
        ),
        {"u": user_id, "texts": ["quiet harbour", "quiet boats", "harbour boats quiet", ""]},
    )
    [added] = (await session.scalars(text("SELECT added FROM vocabulary_changes"))).all()
    assert sorted(added) == ["boats", "boats", "harbour", "harbour", "quiet", "quiet", "quiet"]
    assert await _words(session, user_id) == {"quiet": 3, "harbour": 2, "boats": 2}
    assert await _words(session, user_id) == await _recount(session, user_id)


async def test_folding_at_any_moment_counts_what_a_recount_finds(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    texts = [
        "quiet harbour at dawn",
        "loud harbour, loud gulls",
        "dawn again, quiet again",
        "gulls and boats",
    ]
    ids = [(await create_entry(client, me.auth, body))["id"] for body in texts]
    await _words(session, user_id)  # a fold in the middle
    await client.patch(
        f"/api/v1/entries/{ids[0]}", json={"raw_data": markdown("boats at dusk")}, headers=me.auth
    )
    await client.delete(f"/api/v1/entries/{ids[1]}", headers=me.auth)  # the trash still counts
    await client.delete(f"/api/v1/entries/{ids[2]}/purge", headers=me.auth)
    await client.patch(
        f"/api/v1/entries/{ids[3]}", json={"raw_data": markdown("gulls, dusk")}, headers=me.auth
    )
    words = await _words(session, user_id)
    assert words == await _recount(session, user_id)
    assert words == {"boats": 1, "dusk": 2, "gulls": 2, "harbour": 1, "loud": 1}
    assert await session.scalar(text("SELECT count(*) FROM vocabulary_changes")) == 0


async def test_the_worker_folds_every_users_words(
    fresh_db: DatabaseUrls, tmp_path: Path, accounts_context: AccountsContext
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    system = Database(
        create_engine(fresh_db.system, settings.db, PoolPlan(1, 0), application_name="t")
    )
    try:
        async with live_app_client(settings, fresh_db, accounts_context, PoolPlan(2, 0)) as client:
            accounts = [await signed_up(client) for _ in range(3)]
            for number, account in enumerate(accounts):
                for body in ("quiet harbour", f"harbour number {number}", "boats"):
                    await create_entry(client, account.auth, body)
            users = [await user_id_of(client, account) for account in accounts]
        assert await entries_service.fold_all_vocabularies(system, batch=2) == 9
        assert await entries_service.fold_all_vocabularies(system) == 0
        async with system.unit_of_work() as session:
            for user_id in users:
                words = await _words(session, user_id)
                assert words == {"quiet": 1, "harbour": 2, "number": 1, "boats": 1}
                assert words == await _recount(session, user_id)
    finally:
        await system.dispose()
