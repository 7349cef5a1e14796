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

import json
import re
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from diarist.db.engine import Database
from diarist.journal import repository as repo
from diarist.models import Entry

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
    if entry.format in ("markdown", "text"):
        written = entry.raw_data.get("text")
        if isinstance(written, str):
            return written
    return entry.content


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


def markdown_note(entry: Entry, tags: Sequence[str]) -> tuple[str, str]:
    """(path in the archive, file text) of one entry as a Markdown note."""
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
    label = _UNSAFE.sub("", entry.title or "").strip()[:60].rstrip(". ")
    stem = f"{local:%Y-%m-%d} {label}" if label else f"{local:%Y-%m-%d}"
    path = f"{local:%Y}/{stem} {entry.id.hex[-6:]}.md"
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return path, f"---\n{header}---\n{entry_text(entry)}"


async def zip_chunks(database: Database, user_id: uuid.UUID, fmt: str) -> AsyncIterator[bytes]:
    """The journal as a zip in `fmt` (`dayone` or `markdown`), piece by piece, read in one
    transaction as the user (the archive is built in a spooled file, then streamed)."""
    with tempfile.SpooledTemporaryFile(max_size=_ZIP_MEMORY) as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            async with database.unit_of_work(user_id=user_id) as session:
                if fmt == "dayone":
                    with archive.open("Journal.json", "w") as member:
                        member.write(b'{"metadata": {"version": "1.0"}, "entries": [\n')
                        first = True
                        async for rows in repo.stream_entries(session, user_id):
                            for entry, tags in rows:
                                body = json.dumps(dayone_entry(entry, tags), ensure_ascii=False)
                                member.write((("" if first else ",\n") + body).encode())
                                first = False
                        member.write(b"\n]}\n")
                else:
                    async for rows in repo.stream_entries(session, user_id):
                        for entry, tags in rows:
                            path, note = markdown_note(entry, tags)
                            archive.writestr(path, note)
        buffer.seek(0)
        while chunk := buffer.read(_CHUNK):
            yield chunk
