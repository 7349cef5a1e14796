"""Errors of the journal domain, each with a stable code."""

from __future__ import annotations

from diarist.errors import Conflict, DiaristError, NotFound, PayloadTooLarge, Unprocessable


class EntryNotFound(NotFound):
    code = "entry_not_found"
    title = "Entry not found"


class RevisionNotFound(NotFound):
    code = "revision_not_found"
    title = "Revision not found"


class TagNotFound(NotFound):
    code = "tag_not_found"
    title = "Tag not found"


class RelationshipNotFound(TagNotFound):
    code = "relationship_not_found"
    title = "Relationship not found"


class RawDataTooLarge(DiaristError):
    status = 413
    code = "raw_data_too_large"
    title = "Entry content too large"


class InvalidEntry(Unprocessable):
    code = "invalid_entry"
    title = "Invalid entry"


class InvalidRawData(Unprocessable):
    code = "invalid_raw_data"
    title = "Invalid entry content"


class VersionMismatch(DiaristError):
    status = 412
    code = "version_mismatch"
    title = "The entry has changed"


class InvalidPrecondition(DiaristError):
    status = 400
    code = "invalid_if_match"
    title = "Invalid If-Match"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    title = "Idempotency key reused"


class TagExists(Conflict):
    code = "tag_exists"
    title = "Tag already exists"


class RelationshipExists(Conflict):
    code = "relationship_exists"
    title = "Relationship already exists"


class TagCycle(Unprocessable):
    code = "tag_cycle"
    title = "Tag hierarchy cycle"


class InvalidTag(Unprocessable):
    code = "invalid_tag"
    title = "Invalid tag"


class UnknownParameter(DiaristError):
    status = 400
    code = "unknown_parameter"
    title = "Unknown query parameter"


class NotARecording(Unprocessable):
    code = "not_a_recording"
    title = "Not a recording"


class RecordingTooLarge(PayloadTooLarge):
    code = "recording_too_large"
    title = "Recording too large"


class TranscriptionUnavailable(Conflict):
    code = "transcription_unavailable"
    title = "Transcription unavailable"
