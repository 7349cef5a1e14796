"""Day One's JSON export: `{"metadata": {...}, "entries": [...]}`, bare or zipped with its media
(one JSON per journal at the top of the zip). Entries are streamed (ijson), so a journal of any
length is read in constant memory."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import ijson

from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources._archive import documents, zip_members
from diarist.imports.sources._records import (
    SourceMedia,
    SourceRecord,
    failed,
    heading_title,
    json_safe,
    markdown,
)
from diarist.kit.validation import time_zones

# Fields with a diarist column; every other field is kept under metadata.dayone. `diarist`
# holds what a diarist export adds (journal.exports): fields Day One has no place for.
MAPPED = ("uuid", "creationDate", "timeZone", "text", "tags", "starred", "isPinned", "diarist")
_OWN = ("title", "mood_rating", "entry_type", "visibility")
# Day One's media lists in an entry, and the folder of the export that holds each kind.
MEDIA = {"photos": "photos", "videos": "videos", "audios": "audios", "pdfAttachments": "pdfs"}
Opener = Callable[[], IO[bytes]]


def read(path: Path, max_bytes: int) -> Iterator[SourceRecord]:
    """Each entry of each journal in the export, with its media when the export is a zip."""
    folders = tuple(f"{folder}/" for folder in MEDIA.values())
    files = {
        name.lower(): opener
        for name, opener in zip_members(
            path, max_bytes, lambda n: n.lower().startswith(folders)
        ).items()
    }
    for name, stream in documents(path, ".json", max_bytes):
        journal = name.rsplit("/", 1)[-1].removesuffix(".json")
        try:
            entries = ijson.items(stream, "entries.item", use_float=True)
            for number, entry in enumerate(entries):
                yield record(entry, journal, number, files if files else None)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise InvalidImportFile(f"{name} is not valid Day One JSON ({exc}).") from None


def record(
    entry: Any, journal: str, number: int, files: Mapping[str, Opener] | None = None
) -> SourceRecord:
    """One Day One entry as diarist fields."""
    if not isinstance(entry, dict):
        return failed(f"#{number}", "an entry is not a JSON object")
    uid = entry.get("uuid")
    if not isinstance(uid, str) or not uid.strip():
        return failed(f"#{number}", "the entry has no uuid")
    created = entry.get("creationDate")
    if not isinstance(created, str):
        return failed(uid, "the entry has no creationDate")
    text = entry.get("text")
    if not isinstance(text, str) or not text.strip():
        text = rich_text(entry.get("richText"))
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return failed(uid, "tags is not a list of names")
    kept = {key: value for key, value in entry.items() if key not in MAPPED}
    kept.setdefault("journal", journal)  # a diarist export names each entry's journal
    zone = entry.get("timeZone")
    if zone is not None and (not isinstance(zone, str) or zone not in time_zones()):
        kept["timeZone"] = zone  # not one we know: kept as it was, the entry takes the default
        zone = None
    fields: dict[str, Any] = {
        "raw_data": markdown(text),
        "entry_date": created,
        "tags": tags,
        "starred": entry.get("starred") is True,
        "pinned": entry.get("isPinned") is True,
        "metadata": {"source": "dayone", "dayone": kept} | location(entry.get("location")),
    }
    if zone:
        fields["timezone"] = zone
    if title := heading_title(text):
        fields["title"] = title
    own = entry.get("diarist")
    if isinstance(own, dict):  # written by diarist's Day One export: its fields come back
        fields |= {key: own[key] for key in _OWN if key in own}
        if isinstance(own.get("title"), str) and text.startswith(f"# {own['title']}\n\n"):
            fields["raw_data"] = markdown(text.removeprefix(f"# {own['title']}\n\n"))
        if own.get("origin") == "diarist":  # written in diarist: its metadata as it was
            fields["metadata"] = (own.get("metadata") or {}) | location(entry.get("location"))
        elif isinstance(own.get("metadata"), dict):
            fields["metadata"] = own["metadata"] | fields["metadata"]
    if files is None:  # a bare JSON: its media were not exported with it
        return SourceRecord(uid, fields)
    media, missing = entry_media(entry, files)
    return SourceRecord(uid, fields, media=media, missing_media=missing)


def entry_media(
    entry: dict[str, Any], files: Mapping[str, Opener]
) -> tuple[tuple[SourceMedia, ...], tuple[str, ...]]:
    """The entry's photos, videos, audio and PDFs found in the export (Day One names each
    file by its md5 and type, in a folder of its kind), and the identifiers of those not."""
    found, missing = [], []
    for key, folder in MEDIA.items():
        items = entry.get(key)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            ident, md5, kind = item.get("identifier"), item.get("md5"), item.get("type")
            if not isinstance(ident, str) or not ident or len(ident) > 200:
                continue
            opener = None
            if isinstance(md5, str) and isinstance(kind, str):
                opener = files.get(f"{folder}/{md5}.{kind}".lower())
            if opener is None:
                missing.append(ident)
                continue
            meta = {"source": "dayone", "kind": key, "dayone": json_safe(item)}
            found.append(SourceMedia(ident, f"{ident}.{kind}", opener, meta))
    return tuple(found), tuple(missing)


def rich_text(value: Any) -> str:
    """The plain text of Day One's richText (a JSON string or an object: `contents` runs)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return ""
    if not isinstance(value, dict) or not isinstance(value.get("contents"), list):
        return ""
    runs = [run.get("text") for run in value["contents"] if isinstance(run, dict)]
    return "".join(run for run in runs if isinstance(run, str))


def location(value: Any) -> dict[str, Any]:
    """Day One's place as diarist's `metadata.location` (coordinates and a name)."""
    if not isinstance(value, dict):
        return {}
    lat, lng = _number(value.get("latitude")), _number(value.get("longitude"))
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return {}
    names = [value.get(k) for k in ("placeName", "localityName", "administrativeArea", "country")]
    place = ", ".join(dict.fromkeys(n for n in names if isinstance(n, str) and n))
    return {"location": {"lat": lat, "lng": lng} | ({"name": place} if place else {})}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
