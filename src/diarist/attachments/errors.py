"""Errors of attachments, each with a stable code."""

from __future__ import annotations

from diarist.errors import DiaristError, NotFound, PayloadTooLarge, Unprocessable


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"
    title = "Attachment not found"


class AttachmentEntryNotFound(NotFound):
    """The entry a file is to be attached to is not the user's (or does not exist)."""

    code = "entry_not_found"
    title = "Entry not found"


class AttachmentTooLarge(PayloadTooLarge):
    code = "attachment_too_large"
    title = "Attachment too large"


class QuotaExceeded(PayloadTooLarge):
    code = "quota_exceeded"
    title = "Storage quota exceeded"


class UnsupportedMediaType(DiaristError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class DamagedAttachment(Unprocessable):
    code = "invalid_attachment"
    title = "Invalid attachment"


class NoThumbnail(NotFound):
    code = "no_thumbnail"
    title = "No thumbnail"


class RangeNotSatisfiable(DiaristError):
    status = 416
    code = "range_not_satisfiable"
    title = "Range not satisfiable"
