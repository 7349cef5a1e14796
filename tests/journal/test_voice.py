"""Voice entries: a recording attached to an entry becomes its text through the speech-to-text
provider (a real HTTP server on loopback speaking OpenAI's `audio/transcriptions`), for users
who let their writing go to it; every way of asking wrongly is refused with its code."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.attachments.store import open_store
from diarist.config import OpenAISettings, Settings
from diarist.db.engine import Database
from diarist.journal import voice
from tests.factories import media
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import create_entry
from tests.fixtures.fake_openai import FakeOpenAI, fake_openai_server

CLIP = (Path(__file__).parents[1] / "fixtures" / "voice-note.wav").read_bytes()


@pytest.fixture
def fake(settings: Settings) -> Iterator[FakeOpenAI]:
    with fake_openai_server() as server:
        openai = OpenAISettings(base_url=server.url, api_key=SecretStr("sk-test"), timeout_s=2)
        settings.analysis = settings.analysis.model_copy(update={"openai": openai})
        yield server


async def _consenting(client: httpx.AsyncClient) -> Account:
    me = await signed_up(client)
    allowed = await client.patch(
        "/api/v1/me",
        json={"preferences": {"ai_processing": {"providers": ["local", "openai"]}}},
        headers=me.auth,
    )
    assert allowed.status_code == 200
    return me


async def _recorded(
    client: httpx.AsyncClient, me: Account, data: bytes = CLIP, **entry: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    made = await create_entry(client, me.auth, **entry)
    attached = await client.post(
        "/api/v1/attachments", files={"file": ("note.wav", data)},
        data={"entry_id": made["id"]}, headers=me.auth,
    )  # fmt: skip
    assert attached.status_code == 201, attached.text
    return made, attached.json()


async def test_a_recording_becomes_the_entrys_text(
    client: httpx.AsyncClient, database: Database, settings: Settings, fake: FakeOpenAI,
    session: AsyncSession,
) -> None:  # fmt: skip
    me = await _consenting(client)
    entry, recording = await _recorded(client, me, text="By the river.")
    asked = await client.post(
        f"/api/v1/entries/{entry['id']}/transcribe",
        json={"attachment_id": recording["id"]}, headers=me.auth,
    )  # fmt: skip
    assert asked.status_code == 202, asked.text
    assert asked.json() == {"status": "queued", "entry_id": entry["id"],
                            "attachment_id": recording["id"]}  # fmt: skip
    job = await session.execute(
        text("SELECT args FROM procrastinate_jobs WHERE task_name = 'journal:transcribe'")
    )
    assert job.scalar_one()["attachment_id"] == recording["id"]

    store = open_store(settings.attachments, settings.data_dir)
    user = await user_id_of(client, me)
    status = await voice.transcribe_recording(
        database, store, settings, user, uuid.UUID(entry["id"]), uuid.UUID(recording["id"])
    )
    assert status == "done"
    ((model, name, media_type, sent),) = fake.transcribed
    assert (model, name, media_type, sent) == ("whisper-1", "note.wav", "audio/wav", CLIP)
    after = (await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)).json()
    assert after["raw_data"]["text"] == (
        "By the river.\n\nI walked by the river today and felt calm."
    )
    assert after["entry_type"] == "voice"
    assert after["metadata"]["transcription"]["status"] == "done"
    assert after["version"] == entry["version"] + 1
    revisions = await client.get(f"/api/v1/entries/{entry['id']}/revisions", headers=me.auth)
    assert revisions.json()[0]["raw_data"]["text"] == "By the river.", "the text before kept"


async def test_a_provider_that_fails_leaves_the_text_and_says_why(
    client: httpx.AsyncClient, database: Database, settings: Settings, fake: FakeOpenAI
) -> None:
    me = await _consenting(client)
    entry, recording = await _recorded(client, me, text="Keep me.")
    fake.mode = "error"
    store = open_store(settings.attachments, settings.data_dir)
    status = await voice.transcribe_recording(
        database, store, settings, await user_id_of(client, me), uuid.UUID(entry["id"]),
        uuid.UUID(recording["id"]),
    )  # fmt: skip
    assert status == "failed"
    after = (await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)).json()
    assert after["raw_data"]["text"] == "Keep me."
    assert after["entry_type"] == "text"
    assert after["metadata"]["transcription"]["error"] == "provider answered HTTP 500"


async def test_asking_wrongly(
    client: httpx.AsyncClient, settings: Settings, fake: FakeOpenAI
) -> None:
    me = await _consenting(client)
    entry, recording = await _recorded(client, me)
    _photo_entry, photo = await _recorded(client, me, media.jpeg())
    other_entry, _other = await _recorded(client, me, media.wav())

    async def ask(entry_id: str, body: dict[str, Any], who: Account = me) -> httpx.Response:
        return await client.post(
            f"/api/v1/entries/{entry_id}/transcribe", json=body, headers=who.auth
        )

    not_audio = await ask(_photo_entry["id"], {"attachment_id": photo["id"]})
    assert (not_audio.status_code, not_audio.json()["code"]) == (422, "not_a_recording")
    elsewhere = await ask(other_entry["id"], {"attachment_id": recording["id"]})
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "attachment_not_found")
    missing = await ask(str(uuid.uuid4()), {"attachment_id": recording["id"]})
    assert (missing.status_code, missing.json()["code"]) == (404, "entry_not_found")
    for body in ({}, {"attachment_id": "x"}, {"attachment_id": recording["id"], "more": 1}):
        assert (await ask(entry["id"], body)).status_code == 422
    stranger = await signed_up(client)
    theirs = await ask(entry["id"], {"attachment_id": recording["id"]}, stranger)
    assert theirs.status_code == 404

    unwilling = await signed_up(client)
    their_entry, their_recording = await _recorded(client, unwilling)
    refused = await ask(their_entry["id"], {"attachment_id": their_recording["id"]}, unwilling)
    assert (refused.status_code, refused.json()["code"]) == (409, "transcription_unavailable")
    assert "allow it first" in refused.json()["detail"]

    settings.analysis = settings.analysis.model_copy(
        update={
            "openai": settings.analysis.openai.model_copy(update={"max_transcription_bytes": 1024})
        }
    )
    big = await ask(entry["id"], {"attachment_id": recording["id"]})
    assert (big.status_code, big.json()["code"]) == (413, "recording_too_large")
    settings.analysis = settings.analysis.model_copy(update={"openai": OpenAISettings()})
    unset = await ask(entry["id"], {"attachment_id": recording["id"]})
    assert (unset.status_code, unset.json()["code"]) == (409, "transcription_unavailable")
    assert fake.transcribed == []
