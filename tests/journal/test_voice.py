"""Voice entries: a recording attached to an entry becomes its text, on this machine (the
offline model, on a clip spoken by espeak-ng) or through the speech-to-text provider (a real
HTTP server on loopback speaking OpenAI's `audio/transcriptions`) for users who let their
writing go to it; every way of asking wrongly is refused with its code."""

from __future__ import annotations

import uuid
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.analysis import speech
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
        settings.analysis = settings.analysis.model_copy(
            update={"openai": openai, "transcription": "openai"}
        )
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


@pytest.mark.skipif(not speech.available(), reason="moonshine-cpp has no wheel for this platform")
async def test_a_recording_is_transcribed_on_this_machine(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    assert settings.analysis.transcription == "local"
    me = await signed_up(client)  # no consent needed: the recording never leaves the server
    entry, recording = await _recorded(client, me, text="")
    asked = await client.post(
        f"/api/v1/entries/{entry['id']}/transcribe",
        json={"attachment_id": recording["id"]}, headers=me.auth,
    )  # fmt: skip
    assert asked.status_code == 202, asked.text
    store = open_store(settings.attachments, settings.data_dir)
    status = await voice.transcribe_recording(
        database, store, settings, await user_id_of(client, me), uuid.UUID(entry["id"]),
        uuid.UUID(recording["id"]),
    )  # fmt: skip
    assert status == "done"
    after = (await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)).json()
    heard = after["raw_data"]["text"].lower().strip(".").split()
    said = ["i", "walked", "by", "the", "river", "today", "and", "felt", "calm"]
    assert sum(word in heard for word in said) >= 7, heard  # the model heard it (9 words)
    assert (after["entry_type"], after["metadata"]["transcription"]["model"]) == (
        "voice", "moonshine-base-en"
    )  # fmt: skip


@pytest.mark.skipif(not speech.available(), reason="moonshine-cpp has no wheel for this platform")
def test_the_offline_model_reads_what_it_is_given(tmp_path: Path) -> None:
    loud = tmp_path / "stereo-8bit.wav"
    with wave.open(str(loud), "wb") as out:  # 8-bit stereo at 22 kHz: decoded and resampled
        out.setnchannels(2)
        out.setsampwidth(1)
        out.setframerate(22050)
        out.writeframes(bytes([128, 128]) * 22050)
    assert speech.transcribe_file(loud, "audio/wav") == ""
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(speech.SpeechError):
        speech.transcribe_file(broken, "audio/wav")


def test_long_recordings_are_cut_where_it_is_quiet() -> None:
    rate = speech.SAMPLE_RATE
    noise = np.full(rate * 45, 8000.0)
    noise[rate * 21 : rate * 21 + rate // 2] = 0  # a pause a second after the mark
    pieces = speech._pieces(noise)
    assert len(pieces) == 2
    assert abs(len(pieces[0]) - int(rate * 21.25)) < rate // 10
    assert sum(len(p) for p in pieces) == len(noise)


def test_without_ffmpeg_only_wav_is_transcribed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert speech.can_decode("audio/wav")
    assert not speech.can_decode("audio/mp4")
    with pytest.raises(speech.SpeechError, match="no ffmpeg"):
        speech.transcribe_file(Path("/nonexistent.m4a"), "audio/mp4")


async def test_twice_appends_once_and_silence_changes_nothing(
    client: httpx.AsyncClient, database: Database, settings: Settings, fake: FakeOpenAI
) -> None:
    me = await _consenting(client)
    user = await user_id_of(client, me)
    store = open_store(settings.attachments, settings.data_dir)
    entry, recording = await _recorded(client, me, text="Once.")
    ids = (uuid.UUID(entry["id"]), uuid.UUID(recording["id"]))
    assert await voice.transcribe_recording(database, store, settings, user, *ids) == "done"
    assert await voice.transcribe_recording(database, store, settings, user, *ids) == "done"
    after = (await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)).json()
    assert after["raw_data"]["text"].count(fake.transcript) == 1, "a job run again adds nothing"

    fake.transcript = ""
    quiet, silence = await _recorded(client, me, text="Before.")
    status = await voice.transcribe_recording(
        database, store, settings, user, uuid.UUID(quiet["id"]), uuid.UUID(silence["id"])
    )
    assert status == "silent"
    after = (await client.get(f"/api/v1/entries/{quiet['id']}", headers=me.auth)).json()
    assert (after["raw_data"]["text"], after["entry_type"]) == ("Before.", "text")
    assert after["metadata"]["transcription"]["status"] == "silent"


def test_a_wav_of_an_impossible_rate_is_refused(tmp_path: Path) -> None:
    odd = tmp_path / "odd.wav"
    with wave.open(str(odd), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(2)  # 25 MB of this would resample to billions of samples
        out.writeframes(b"\x00\x00" * 100)
    with pytest.raises(speech.SpeechError, match="8-96 kHz"):
        speech.transcribe_file(odd, "audio/wav")
