"""diarist's own export (`GET /api/v1/me/export?format=zip|json`, `diarist export --format
json`): the document of every table the account owned, bare or zipped with the attachments'
files (`attachments/<sha-256 hex>`). Its live entries come back with their tags and files;
the trash, the analysis and the rest of the account are not imported (the analysis is made
again). Read in two streaming passes: tags, tag links and attachments first (they follow the
entries in the document), then the entries, one at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import ijson

from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources._archive import documents, zip_members
from diarist.imports.sources._records import SourceMedia, SourceRecord, failed

# An entry's columns that are fields of `POST /api/v1/entries`.
FIELDS = ("title", "raw_data", "entry_date", "timezone", "starred", "pinned", "mood_rating",
          "entry_type", "visibility", "metadata", "published_at")  # fmt: skip
_FIRST_PASS = {f"tables.{t}.item" for t in ("tags", "entry_tags", "attachments")}


def read(path: Path, max_bytes: int) -> Iterator[SourceRecord]:
    files = zip_members(path, max_bytes, lambda name: name.startswith("attachments/"))
    tags: dict[str, str] = {}
    tags_of: dict[str, list[str]] = {}
    attachments_of: dict[str, list[dict[str, Any]]] = {}
    for prefix, row in _rows(path, max_bytes, _FIRST_PASS):
        if prefix == "tables.tags.item":
            tags[str(row.get("id"))] = str(row.get("name"))
        elif prefix == "tables.entry_tags.item":
            tags_of.setdefault(str(row.get("entry_id")), []).append(str(row.get("tag_id")))
        else:
            attachments_of.setdefault(str(row.get("entry_id")), []).append(row)
    any_entry = False
    for _prefix, row in _rows(path, max_bytes, {"tables.entries.item"}):
        any_entry = True
        entry_id = row.get("id")
        if not isinstance(entry_id, str):
            yield failed("#?", "an entry has no id")
            continue
        if row.get("deleted_at") is not None:
            continue  # the trash stays behind
        fields = {key: row[key] for key in FIELDS if row.get(key) is not None}
        fields["tags"] = [tags[t] for t in tags_of.get(entry_id, []) if t in tags]
        media, missing = _media(attachments_of.get(entry_id, []), files)
        yield SourceRecord(entry_id, fields, None, media, missing)
    if not any_entry:
        raise InvalidImportFile("The file is not a diarist export with entries.")


def _media(
    rows: list[dict[str, Any]], files: dict[str, Callable[[], IO[bytes]]]
) -> tuple[tuple[SourceMedia, ...], tuple[str, ...]]:
    """An entry's attachments whose files the export holds (none from a bare JSON)."""
    if not files:
        return (), ()
    media, missing = [], []
    for row in rows:
        source_id, name = str(row.get("id")), row.get("file_name")
        opener = files.get(f"attachments/{row.get('sha256')}")
        if opener is None or not isinstance(name, str):
            missing.append(source_id)
            continue
        meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
        media.append(SourceMedia(source_id, name, opener, meta or {}))
    return tuple(media), tuple(missing)


def _rows(path: Path, max_bytes: int, prefixes: set[str]) -> Iterator[tuple[str, Any]]:
    """Every row of the named tables' arrays (`tables.<name>.item`), streamed."""
    for name, stream in documents(path, ".json", max_bytes):
        try:
            yield from _items(stream, prefixes)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise InvalidImportFile(f"{name} is not valid JSON ({exc}).") from None


def _items(stream: Any, prefixes: set[str]) -> Iterator[tuple[str, Any]]:
    """ijson's `items` for several prefixes in one pass."""
    builder: ijson.ObjectBuilder | None = None
    current = ""
    for prefix, event, value in ijson.parse(stream, use_float=True):
        if builder is None:
            if prefix in prefixes and event == "start_map":
                builder, current = ijson.ObjectBuilder(), prefix
                builder.event(event, value)
            continue
        builder.event(event, value)
        if prefix == current and event == "end_map":
            yield current, builder.value
            builder = None
