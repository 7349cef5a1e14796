"""Analysis racing the user's edits, forced re-runs, opting out, and auto-rules once only."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import service as analysis_service
from diarist.analysis.local import LocalAnalyzer, get_local_analyzer
from diarist.analysis.results import Analysis, TaskResult
from diarist.config import AnalysisSettings
from diarist.db.engine import Database, act_as
from diarist.db.provision import DatabaseUrls, libpq_url
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import analyze_entries, create_entry, markdown


class EditingAnalyzer(LocalAnalyzer):
    """Analyses for real, but the user edits the entry while it does (then maybe fails)."""

    def __init__(self, urls: DatabaseUrls, entry_id: str, fail: bool = False) -> None:
        self.real = get_local_analyzer(1)
        self.urls, self.entry_id, self.fail = urls, entry_id, fail

    def analyze(self, text_: str, language: str = "en") -> Analysis:
        result = self.real.analyze(text_, language)
        new = "An entirely different text, written while the analysis ran."
        with psycopg.connect(libpq_url(self.urls.owner), autocommit=True) as conn:
            conn.execute(
                "UPDATE entries SET content = %s, content_hash = %s WHERE id = %s",
                (new, hashlib.sha256(new.encode()).digest(), self.entry_id),
            )
        if self.fail:
            raise RuntimeError("failed after the edit")
        return result


class LabelledAnalyzer(LocalAnalyzer):
    def __init__(self, label: str) -> None:
        self.real = get_local_analyzer(1)
        self.label = label

    def analyze(self, text_: str, language: str = "en") -> Analysis:
        result = self.real.analyze(text_, language)
        results = [
            TaskResult(r.task_type, {**r.data, "label": self.label}, r.confidence, r.provider_info)
            if r.task_type == "sentiment" else r
            for r in result.results
        ]  # fmt: skip
        return Analysis(results, result.embedding, result.model)


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def _ids(
    client: httpx.AsyncClient, me: Account, entry: dict[str, Any]
) -> tuple[uuid.UUID, uuid.UUID]:
    user = await user_id_of(client, me)
    return user, uuid.UUID(entry["id"])


async def _state(session: AsyncSession, user_id: uuid.UUID, entry_id: uuid.UUID) -> tuple[Any, ...]:
    await act_as(session, user_id)
    row = (
        await session.execute(
            text(
                "SELECT e.processing_status, e.analysis_error, "
                "(SELECT count(*) FROM processed_content p WHERE p.entry_id = e.id), "
                "(SELECT count(*) FROM entry_embeddings m WHERE m.entry_id = e.id), "
                "(SELECT count(*) FROM entry_topics t WHERE t.entry_id = e.id) "
                "FROM entries e WHERE e.id = :id"
            ),
            {"id": entry_id},
        )
    ).one()
    return tuple(row)


async def test_forced_analysis_replaces_results(
    client: httpx.AsyncClient, me: Account, database: Database, session: AsyncSession
) -> None:
    entry = await create_entry(client, me.auth, "A calm evening.")
    user_id, entry_id = await _ids(client, me, entry)
    settings = AnalysisSettings()
    for analyzer, force in ((LabelledAnalyzer("first"), False), (LabelledAnalyzer("second"), True)):
        await analysis_service.analyze_entry(
            database, analyzer, settings, entry_id, user_id, attempt=1, force=force
        )
    await act_as(session, user_id)
    label = await session.scalar(
        text("SELECT processed_data->>'label' FROM processed_content "
             "WHERE entry_id = :id AND task_type = 'sentiment'"),
        {"id": entry_id},
    )  # fmt: skip
    assert label == "second"


async def test_opting_out_forgets_derived_data(
    client: httpx.AsyncClient, me: Account, database: Database, session: AsyncSession
) -> None:
    entry = await create_entry(client, me.auth, "Gardening in the rain, garden all day.")
    user_id, entry_id = await _ids(client, me, entry)
    await analyze_entries(database, user_id)
    assert (await _state(session, user_id, entry_id))[2] > 0
    await client.patch(
        "/api/v1/me", json={"preferences": {"ai_processing": {"enabled": False}}}, headers=me.auth
    )
    outcome = await analysis_service.analyze_entry(
        database, get_local_analyzer(1), AnalysisSettings(), entry_id, user_id, attempt=1,
        force=True,
    )  # fmt: skip
    assert outcome.status == "disabled"
    assert await _state(session, user_id, entry_id) == ("completed", None, 0, 0, 0)


async def test_a_removed_auto_tag_stays_removed(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    await create_entry(client, me.auth, "Garden day, the garden beds are ready.", tags=["garden"])
    tag = (await client.get("/api/v1/tags", headers=me.auth)).json()[0]
    await client.patch(f"/api/v1/tags/{tag['id']}", json={"auto_apply": True}, headers=me.auth)
    entry = await create_entry(client, me.auth, "Gardening again; the garden is my quiet place.")
    user_id, _ = await _ids(client, me, entry)
    await analyze_entries(database, user_id)
    url = f"/api/v1/entries/{entry['id']}"
    assert (await client.get(url, headers=me.auth)).json()["tags"] == ["garden"]
    await client.patch(url, json={"tags": []}, headers=me.auth)
    await client.patch(
        url, json={"raw_data": markdown("Gardening, garden, garden again.")}, headers=me.auth
    )
    await analyze_entries(database, user_id)
    assert (await client.get(url, headers=me.auth)).json()["tags"] == []
