"""Voice entries: a recording attached to an entry becomes its text. Speech to text is the
OpenAI-compatible provider's (`audio/transcriptions`, for users who let their writing leave the
server); no offline model good enough installs here (docs/attachments.md, "Voice entries"
has the measurement). The job writes the transcript into the entry as an edit (a revision
keeps the text before), makes it a `voice` entry, and records the outcome in
`metadata.transcription`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences
from diarist.analysis.openai import OpenAIClient, ProviderError
from diarist.attachments import service as attachments_service
from diarist.attachments.errors import AttachmentNotFound
from diarist.attachments.store import Store
from diarist.config import Settings
from diarist.db.engine import Database
from diarist.db.jobs import defer
from diarist.errors import Conflict, PayloadTooLarge, Unprocessable
from diarist.journal import jobs
from diarist.journal import repository as repo
from diarist.journal import service as entries_service
from diarist.journal.errors import EntryNotFound
from diarist.journal.schemas import EntryUpdate

_log = structlog.get_logger("diarist.journal.voice")
_SPOKEN = ("audio", "video")


class NotARecording(Unprocessable):
    code = "not_a_recording"
    title = "Not a recording"


class RecordingTooLarge(PayloadTooLarge):
    code = "recording_too_large"
    title = "Recording too large"


class TranscriptionUnavailable(Conflict):
    code = "transcription_unavailable"
    title = "Transcription unavailable"


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
    if not provider.base_url or not provider.transcription_model:
        raise TranscriptionUnavailable("This server has no speech-to-text provider configured.")
    mine = await preferences.preferences_of(session, user_id)
    if not mine.allows_remote_analysis:
        raise TranscriptionUnavailable(
            "Transcription sends the recording to the server's AI provider: allow it first "
            '(preferences.ai_processing.providers includes "openai").'
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
    async with database.unit_of_work(user_id) as session:
        try:
            attachment, blob = await attachments_service.get_attachment(
                session, user_id, attachment_id
            )
        except AttachmentNotFound:
            return "gone"
        allowed = (await preferences.preferences_of(session, user_id)).allows_remote_analysis
    if not allowed:
        return "gone"
    audio = b"".join(
        [chunk async for chunk in attachments_service.original_bytes(store, attachment, blob)]
    )
    client = OpenAIClient(settings.analysis.openai)
    outcome: dict[str, Any] = {"attachment_id": str(attachment_id)}
    text = None
    try:
        text, model = await client.transcribe(audio, attachment.file_name, blob.media_type)
        outcome |= {"status": "done", "model": model}
    except ProviderError as exc:
        outcome |= {"status": "failed", "error": str(exc)}
        _log.warning("transcription_failed", entry_id=str(entry_id), error=str(exc))
    finally:
        await client.close()
    outcome["at"] = datetime.now(UTC).isoformat()
    async with database.unit_of_work(user_id) as session:
        entry = await repo.get_entry(session, user_id, entry_id)
        if entry is None or entry.deleted_at is not None:
            return "gone"
        changes: dict[str, Any] = {"metadata": {**(entry.meta or {}), "transcription": outcome}}
        if text is not None:
            changes["entry_type"] = "voice"
            written = entries_service.entry_text_if_plain(entry)
            if written is None:  # EditorJS or other JSON: the transcript stays beside it
                outcome["text"] = text
            else:
                joined = f"{written.rstrip()}\n\n{text}" if written.strip() else text
                changes["raw_data"] = {"format": "markdown", "text": joined}
        await entries_service.update_entry(
            session, user_id, entry_id, EntryUpdate.model_validate(changes), settings.journal,
            expected_version=None,
        )  # fmt: skip
    return str(outcome["status"])
