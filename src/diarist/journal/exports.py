"""The journal in other tools' shapes, to leave diarist with: a Day One JSON export and a
folder of Markdown notes with front matter, each as a zip streamed to the caller.

Day One: one `Journal.json` (`{"metadata": ..., "entries": [...]}`) that Day One and
`diarist import dayone` read. An entry imported from Day One goes back with its own uuid and
every field kept in `metadata.dayone`; a title that is not already the text's first heading
becomes one (Day One has no titles). diarist's own fields without a Day One field (that title,
mood, type, visibility, the rest of `metadata`) travel under `diarist`, which
`diarist import dayone` reads back.

Markdown: `YYYY/YYYY-MM-DD <title>.md` per entry, front matter with the id, title, date (in
the entry's zone), tags, starred, pinned and mood; the body as written (Markdown and plain
text as they are, other formats as their plain text).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import yaml
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.attachments import service as attachments_service
from diarist.attachments.service import media_extension
from diarist.attachments.store import Store
from diarist.db.engine import Database
from diarist.journal import repository as repo
from diarist.journal import service as entries_service
from diarist.kit.zipping import MemberWriter
from diarist.models import Attachment, AttachmentBlob, Entry

EXPORT_FORMATS = ("dayone", "markdown")
_CHUNK = 1 << 16
_ZIP_MEMORY = 8 * 1024 * 1024
_UNSAFE = re.compile(r"[^\w\- .,()]+")


def _utc(moment: datetime) -> str:
    """UTC in Day One's form (`2023-06-14T07:42:10Z`), with the fraction of a second if any."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def entry_text(entry: Entry) -> str:
    """The entry's text as written: Markdown or plain text as it is, other formats (EditorJS,
    any JSON) as the plain text diarist derived from them."""
    written = entries_service.entry_text_if_plain(entry)
    return entry.content if written is None else written


def _first_heading(text: str) -> str | None:
    first = text.lstrip("\n").split("\n", 1)[0].strip()
    return first.lstrip("#").strip() if first.startswith("#") else None


def dayone_entry(entry: Entry, tags: Sequence[str]) -> dict[str, Any]:
    """One entry as Day One writes it."""
    meta = dict(entry.meta or {})
    from_dayone = entry.import_source == "dayone" and meta.get("source") == "dayone"
    kept: dict[str, Any] = {}
    if from_dayone:
        kept = dict(meta.pop("dayone", None) or {})
        del meta["source"]
    text = entry_text(entry)
    own: dict[str, Any] = {}
    if entry.title and _first_heading(text) != entry.title:
        text = f"# {entry.title}\n\n{text}"  # Day One shows the first line as the title
        own["title"] = entry.title
    location = meta.pop("location", None)
    if isinstance(location, dict) and "location" not in kept:
        kept["location"] = {"latitude": location.get("lat"), "longitude": location.get("lng")} | (
            {"placeName": location["name"]} if location.get("name") else {}
        )
    # An entry unedited since Day One keeps Day One's own dates (or their absence).
    unedited = from_dayone and entry.version == 1
    out: dict[str, Any] = {
        "uuid": entry.import_id if from_dayone and entry.import_id else entry.id.hex.upper(),
        "creationDate": _utc(entry.entry_date),
        "timeZone": kept.pop("timeZone", None) or entry.timezone,
        "text": text,
        "tags": list(tags),
        "starred": entry.starred,
        "isPinned": entry.pinned,
        **kept,
    }
    if not unedited:
        out["modifiedDate"] = _utc(entry.updated_at)
    more = {"mood_rating": entry.mood_rating, "entry_type": entry.entry_type,
            "visibility": entry.visibility, "metadata": meta}  # fmt: skip
    own |= {key: value for key, value in more.items() if value not in (None, {}, "text", "private")}
    if not from_dayone:
        own["origin"] = "diarist"  # its metadata is all in `diarist.metadata`
    if own:
        out["diarist"] = own
    return out


def markdown_note(
    entry: Entry,
    tags: Sequence[str],
    files: list[tuple[Attachment, AttachmentBlob]] = [],  # noqa: B006 - never changed
) -> tuple[str, str]:
    """(path in the archive, file text) of one entry as a Markdown note, its references to
    attachments pointing at their files beside the notes."""
    local = entry.entry_date.astimezone(ZoneInfo(entry.timezone))
    # `title: null` says "no title" (an importer would otherwise take the file's name).
    front: dict[str, Any] = {"id": str(entry.id), "title": entry.title}
    front["date"] = local.isoformat()
    front["timezone"] = entry.timezone
    if tags:
        front["tags"] = list(tags)
    for name in ("starred", "pinned"):
        if getattr(entry, name):
            front[name] = True
    if entry.mood_rating is not None:
        front["mood"] = entry.mood_rating
    if files:  # every file, the text's links or not: an import attaches them all again
        front["attachments"] = ["../" + attachment_path(a) for a, _ in files]
    label = _UNSAFE.sub("", entry.title or "").strip()[:60].rstrip(". ")
    stem = f"{local:%Y-%m-%d} {label}" if label else f"{local:%Y-%m-%d}"
    path = f"{local:%Y}/{stem} {entry.id.hex[-6:]}.md"
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return path, f"---\n{header}---\n{linked_text(entry_text(entry), files)}"


# Day One's media lists, by diarist's kind of attachment, and the folder of each in the zip.
_DAYONE_MEDIA = {
    "image": ("photos", "photos"), "audio": ("audios", "audios"),
    "video": ("videos", "videos"), "pdf": ("pdfAttachments", "pdfs"),
}  # fmt: skip
_DAYONE_FOLDERS = dict(_DAYONE_MEDIA.values())
Files = dict[uuid.UUID, list[tuple[Attachment, AttachmentBlob]]]


async def _files_of(session: AsyncSession, user_id: uuid.UUID, rows: Sequence[Any]) -> Files:
    """The attachments of a batch of entries, by entry."""
    found: Files = {}
    listed = await attachments_service.list_of_entries(session, user_id, [e.id for e, _ in rows])
    for attachment, blob in listed:
        found.setdefault(attachment.entry_id, []).append((attachment, blob))
    return found


async def _md5(store: Store, attachment: Attachment, blob: AttachmentBlob) -> str:
    digest = hashlib.md5(usedforsecurity=False)  # Day One names files by it
    async for chunk in attachments_service.original_bytes(store, attachment, blob):
        digest.update(chunk)
    return digest.hexdigest()


async def dayone_media(
    store: Store, out: dict[str, Any], files: list[tuple[Attachment, AttachmentBlob]]
) -> list[tuple[str, Attachment, AttachmentBlob]]:
    """Put an entry's attachments in its Day One lists (`photos` ...): an item Day One gave
    goes back as it came, others are described anew (identifier: the attachment's id, which
    the text's `attachment:<id>` names). The files to add to the zip, by their names."""
    wanted = []
    for attachment, blob in files:
        key = _DAYONE_MEDIA[attachment.kind][0]
        extension = media_extension(blob.media_type)
        meta = attachment.meta or {}
        item: dict[str, Any] = {"identifier": str(attachment.id)}
        if meta.get("source") == "dayone" and isinstance(meta.get("dayone"), dict):
            item = dict(meta["dayone"])  # as Day One gave it, in the list it came in
            key = meta["kind"] if meta.get("kind") in _DAYONE_FOLDERS else key
            if isinstance(item.get("type"), str):
                extension = item["type"]
        elif attachment.width is not None:
            item |= {"width": attachment.width, "height": attachment.height}
        item |= {"md5": await _md5(store, attachment, blob), "type": extension}
        folder = _DAYONE_FOLDERS[key]
        listed = [i for i in out.get(key) or [] if i.get("identifier") != item["identifier"]]
        out[key] = [*listed, item]
        wanted.append((f"{folder}/{item['md5']}.{extension}", attachment, blob))
    return wanted


def attachment_path(attachment: Attachment) -> str:
    """Where a Markdown export keeps an attachment: beside the notes, in a folder per file."""
    return f"attachments/{attachment.id}/{_UNSAFE.sub('_', attachment.file_name)}"


def linked_text(text: str, files: list[tuple[Attachment, AttachmentBlob]]) -> str:
    """A note's text with its references to attachments (`attachment:<id>`, Day One's
    `dayone-moment://<identifier>`) pointing at the files beside the notes."""
    for attachment, _blob in files:
        target = "../" + quote(attachment_path(attachment))
        text = text.replace(f"attachment:{attachment.id}", target)
        if attachment.source_id:
            text = text.replace(f"dayone-moment://{attachment.source_id}", target)
    return text


def _write_notes(archive: zipfile.ZipFile, notes: list[tuple[str, str]]) -> None:
    for path, note in notes:
        archive.writestr(path, note)


async def zip_chunks(
    database: Database, user_id: uuid.UUID, fmt: str, *, store: Store
) -> AsyncIterator[bytes]:
    """The journal as a zip in `fmt` (`dayone` or `markdown`) with its attachments' files,
    piece by piece, read in one transaction as the user (the archive is built in a spooled
    file, then streamed)."""
    with tempfile.SpooledTemporaryFile(max_size=_ZIP_MEMORY) as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            async with database.unit_of_work(user_id=user_id) as session:
                wanted: dict[str, tuple[Attachment, AttachmentBlob]] = {}
                if fmt == "dayone":
                    with archive.open("Journal.json", "w") as opened:
                        member = MemberWriter(opened)
                        await member.write(b'{"metadata": {"version": "1.0"}, "entries": [\n')
                        first = True
                        async for rows in repo.stream_entries(session, user_id):
                            files = await _files_of(session, user_id, rows)
                            for entry, tags in rows:
                                out = dayone_entry(entry, tags)
                                for name, a, b in await dayone_media(
                                    store, out, files.get(entry.id, [])
                                ):
                                    wanted[name] = (a, b)
                                body = json.dumps(out, ensure_ascii=False)
                                await member.write((("" if first else ",\n") + body).encode())
                                first = False
                        await member.write(b"\n]}\n")
                        await member.flush()
                else:
                    async for rows in repo.stream_entries(session, user_id):
                        files = await _files_of(session, user_id, rows)
                        notes = []
                        for entry, tags in rows:
                            mine = files.get(entry.id, [])
                            notes.append(markdown_note(entry, tags, mine))
                            wanted |= {attachment_path(a): (a, b) for a, b in mine}
                        await to_thread.run_sync(_write_notes, archive, notes)
            for name, (attachment, blob) in wanted.items():
                # ZIP_STORED: photos and video are compressed already
                with archive.open(zipfile.ZipInfo(name), "w", force_zip64=True) as opened:
                    member = MemberWriter(opened)
                    async for chunk in attachments_service.original_bytes(store, attachment, blob):
                        await member.write(chunk)
                    await member.flush()
        buffer.seek(0)
        while chunk := buffer.read(_CHUNK):
            yield chunk
