"""Journals made through the real API and services."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import service as accounts_service
from diarist.accounts.mailer import ConsoleMailer
from diarist.accounts.secrets import Keyring
from diarist.accounts.service import AccountsContext, Client
from diarist.analysis import service as analysis_service
from diarist.analysis.local import get_local_analyzer
from diarist.config import AnalysisSettings, JournalSettings, Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.journal import service as entries_service
from diarist.journal import tags as tags_service
from diarist.journal.schemas import EntryCreate, EntryUpdate, RelationshipCreate, TagCreate
from diarist.kit.clock import SystemClock
from diarist.models import Entry
from tests.factories.accounts import PASSWORD, unique_email


def markdown(text: str) -> dict[str, Any]:
    return {"format": "markdown", "text": text}


async def create_entry(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    text: str = "A walk by the river.",
    **fields: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/entries", json={"raw_data": markdown(text), **fields}, headers=auth
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def fill_journal(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    """Rows in every journal table: an edited, tagged entry and related tags."""
    entry = await create_entry(client, auth, "Gardening in the rain", tags=["garden", "rain"])
    # A search that corrects a typo counts the words written so far into the vocabulary; the
    # edit's stay recorded.
    typo = await client.get(
        "/api/v1/search", params={"q": "gardning", "mode": "keyword"}, headers=auth
    )
    assert typo.json()["corrected_query"], typo.text
    edited = await client.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"raw_data": markdown("Gardening in the rain, then tea.")},
        headers=auth,
    )
    assert edited.status_code == 200, edited.text
    tags = {t["name"]: t["id"] for t in (await client.get("/api/v1/tags", headers=auth)).json()}
    linked = await client.post(
        f"/api/v1/tags/{tags['garden']}/relationships",
        json={"related_tag_id": tags["rain"], "kind": "related", "strength": 0.5},
        headers=auth,
    )
    assert linked.status_code == 201, linked.text


async def fill_journal_with_services(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The same through the services (for tests without an HTTP client)."""
    limits = JournalSettings()
    entry, _ = await entries_service.create_entry(
        session,
        user_id,
        EntryCreate(raw_data=markdown("Gardening in the rain"), tags=["garden", "rain"]),
        limits,
    )
    await entries_service.fold_vocabulary(session, user_id)  # the edit's words stay recorded
    await entries_service.update_entry(
        session,
        user_id,
        entry.id,
        EntryUpdate(raw_data=markdown("Gardening in the rain, then tea.")),
        limits,
        expected_version=None,
    )
    garden = await tags_service.create_tag(session, user_id, TagCreate(name="shed"))
    rain = (await tags_service.list_tags(session, user_id, query="rain", limit=1))[0]
    await tags_service.create_relationship(
        session, user_id, garden.id, RelationshipCreate(related_tag_id=rain.id, kind="related")
    )


async def analyze_entries(database: Database, user_id: uuid.UUID) -> None:
    """Run the real analysis (as the worker would) on every live entry of the user."""
    async with database.unit_of_work(user_id=user_id) as session:
        ids = list(
            await session.scalars(
                select(Entry.id).where(Entry.user_id == user_id, Entry.deleted_at.is_(None))
            )
        )
    for entry_id in ids:
        outcome = await analysis_service.analyze_entry(
            database, get_local_analyzer(1), AnalysisSettings(), entry_id, user_id, attempt=1
        )
        assert outcome.status in {"completed", "unchanged"}


async def user_with_entries(
    urls: DatabaseUrls, settings: Settings, entries: list[EntryCreate]
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A user with entries, written through the services on a database of its own (for tests
    that need real commits); returns the user's id and the entries' ids."""
    ctx = AccountsContext(
        settings, Keyring(SecretStr("k" * 48)), ConsoleMailer("x", io.StringIO()), SystemClock()
    )
    database = Database(create_engine(urls.app, settings.db, PoolPlan(1, 0), application_name="t"))
    try:
        async with database.unit_of_work() as session:
            user, _ = await accounts_service.register(
                session, ctx, email=unique_email(), name="U", password=PASSWORD,
                client=Client(None, None),
            )  # fmt: skip
        async with database.unit_of_work(user_id=user.id) as session:
            ids = [
                (await entries_service.create_entry(session, user.id, entry, settings.journal))[
                    0
                ].id
                for entry in entries
            ]
    finally:
        await database.dispose()
    return user.id, ids
