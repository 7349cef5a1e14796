"""Voice entries: a recording attached to an entry becomes its text. Speech to text runs on
this machine by default (`analysis.speech`: Moonshine, its model inside a wheel), or at the
OpenAI-compatible provider (`audio/transcriptions`, for users who let their writing leave the
server); docs/attachments.md, "Voice entries", has the measurements. The job writes the
transcript into the entry as an edit (a revision keeps the text before), makes it a `voice`
entry, and records the outcome in `metadata.transcription`."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences
from diarist.analysis import openai, speech
from diarist.attachments import service as attachments_service
from diarist.attachments.errors import AttachmentNotFound
from diarist.attachments.store import Store
from diarist.config import Settings
from diarist.db.engine import Database
from diarist.db.jobs import defer
from diarist.errors import DiaristError
from diarist.journal import jobs
from diarist.journal import repository as repo
from diarist.journal import service as entries_service
from diarist.journal.errors import (
    EntryNotFound,
    NotARecording,
    RecordingTooLarge,
    TranscriptionUnavailable,
)
from diarist.journal.schemas import EntryUpdate

_log = structlog.get_logger("diarist.journal.voice")
_SPOKEN = ("audio", "video")


async def request_transcription(
    session: AsyncSession,
    settings: Settings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> None:
    """Queue the transcription of a recording attached to the user's (live) entry, once the
    server has a provider and the user lets their writing go to it."""
    entry = await repo.get_entry(session, user_id, entry_id)
    if entry is None or entry.deleted_at is not None:
        raise EntryNotFound("No such entry.")
    attachment, blob = await attachments_service.get_attachment(session, user_id, attachment_id)
    if attachment.entry_id != entry_id:
        raise AttachmentNotFound("No such attachment on this entry.")
    if attachment.kind not in _SPOKEN:
        raise NotARecording("Only audio and video attachments can be transcribed.")
    provider = settings.analysis.openai
    if blob.size_bytes > provider.max_transcription_bytes:
        raise RecordingTooLarge(
            f"Recordings of up to {provider.max_transcription_bytes} bytes are transcribed."
        )
    mode = settings.analysis.transcription
    if mode == "off":
        raise TranscriptionUnavailable("This server does not transcribe recordings.")
    if mode == "local":
        if not speech.available():
            raise TranscriptionUnavailable("No offline speech model is installed here.")
        if not speech.can_decode(blob.media_type):
            raise NotARecording(
                "Only WAV recordings can be transcribed on this server (it has no ffmpeg)."
            )
    else:
        if not provider.base_url or not provider.transcription_model:
            raise TranscriptionUnavailable("This server has no speech-to-text provider configured.")
        mine = await preferences.preferences_of(session, user_id)
        if not mine.allows_remote_analysis:
            raise TranscriptionUnavailable(
                "Transcription sends the recording to the server's AI provider: allow it "
                'first (preferences.ai_processing.providers includes "openai").'
            )
    await defer(
        session, jobs.TRANSCRIBE,
        entry_id=str(entry_id), attachment_id=str(attachment_id), user_id=str(user_id),
    )  # fmt: skip


async def transcribe_recording(
    database: Database,
    store: Store,
    settings: Settings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    attachment_id: uuid.UUID,
) -> str:
    """The job's work: the recording to the provider, its transcript into the entry. The
    outcome: done, failed (the provider's error is in the entry's metadata), or gone (the
    entry or recording was removed, or the user withdrew their consent, meanwhile)."""
    local = settings.analysis.transcription == "local"
    async with database.unit_of_work(user_id) as session:
        try:
            attachment, blob = await attachments_service.get_attachment(
                session, user_id, attachment_id
            )
        except AttachmentNotFound:
            return "gone"
        allowed = (await preferences.preferences_of(session, user_id)).allows_remote_analysis
    if not (local or allowed):
        return "gone"
    audio = b"".join(
        [chunk async for chunk in attachments_service.original_bytes(store, attachment, blob)]
    )
    outcome: dict[str, Any] = {"attachment_id": str(attachment_id)}
    text = None
    try:
        if local:
            text, model = await _transcribe_here(audio, blob.media_type), speech.MODEL
        else:
            text, model = await _transcribe_there(settings, audio, attachment.file_name,
                                                  blob.media_type)  # fmt: skip
        outcome |= {"status": "done", "model": model}
    except (openai.ProviderError, speech.SpeechError) as exc:
        outcome |= {"status": "failed", "error": str(exc)}
        _log.warning("transcription_failed", entry_id=str(entry_id), error=str(exc))
    if text is not None and not text.strip():
        outcome |= {"status": "silent"}  # nothing heard: the text stays as it is
        text = None
    outcome["at"] = datetime.now(UTC).isoformat()
    async with database.unit_of_work(user_id) as session:
        # Locked: an edit the writer commits meanwhile is read here, never overwritten.
        entry = await repo.get_entry(session, user_id, entry_id, for_update=True)
        if entry is None or entry.deleted_at is not None:
            return "gone"
        earlier = (entry.meta or {}).get("transcription") or {}
        if earlier.get("attachment_id") == str(attachment_id) and earlier.get("status") == "done":
            return "done"  # a job run again, or asked twice: the transcript is there already
        changes: dict[str, Any] = {"metadata": {**(entry.meta or {}), "transcription": outcome}}
        if text is not None:
            changes["entry_type"] = "voice"
            written = entries_service.entry_text_if_plain(entry)
            if written is None:  # EditorJS or other JSON: the transcript stays beside it
                outcome["text"] = text
            else:
                joined = f"{written.rstrip()}\n\n{text}" if written.strip() else text
                changes["raw_data"] = {**entry.raw_data, "text": joined}  # its format kept
        try:
            await entries_service.update_entry(
                session, user_id, entry_id, EntryUpdate.model_validate(changes),
                settings.journal, expected_version=None,
            )  # fmt: skip
        except DiaristError as exc:  # the transcript makes the entry too large, say
            failed = {**outcome, "status": "failed", "error": exc.detail}
            failed.pop("text", None)
            await entries_service.update_entry(
                session, user_id, entry_id,
                EntryUpdate(metadata={**(entry.meta or {}), "transcription": failed}),
                settings.journal, expected_version=None,
            )  # fmt: skip
            return "failed"
    return str(outcome["status"])


async def _transcribe_here(audio: bytes, media_type: str) -> str:
    """On this machine, in a thread (CPU-bound): the recording goes through a private file."""
    with tempfile.NamedTemporaryFile(prefix="diarist-voice-", suffix=".rec") as file:
        file.write(audio)
        file.flush()
        return await to_thread.run_sync(speech.transcribe_file, Path(file.name), media_type)


async def _transcribe_there(
    settings: Settings, audio: bytes, file_name: str, media_type: str
) -> tuple[str, str]:
    client = openai.OpenAIClient(settings.analysis.openai)
    try:
        return await client.transcribe(audio, file_name, media_type)
    finally:
        await client.close()
