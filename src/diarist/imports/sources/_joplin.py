"""Joplin's exports: RAW (a folder of `<id>.md` items) and JEX (a tar of the same, with
`resources/` beside). Each item is its text, a blank line, then `key: value` lines; `type_`
says what it is: 1 a note, 2 a notebook, 5 a tag, 6 a note's tag, 4 a resource (a file).

Notes become entries (known by Joplin's id); their notebook path, dates, to-do state and the
rest of Joplin's fields are kept in `metadata.joplin`, coordinates as `metadata.location`.
Nothing is extracted from the tar: members are read in memory, links and devices are skipped.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources._dayone import location
from diarist.imports.sources._records import SourceRecord, failed, markdown

_PROPERTY = re.compile(r"^([a-z_]+): ?(.*)$")
_NOTE, _NOTEBOOK, _TAG, _NOTE_TAG = "1", "2", "5", "6"
# Item fields with a diarist place (or of no use outside Joplin).
_MAPPED = ("id", "type_", "parent_id", "user_created_time", "latitude", "longitude",
           "encryption_cipher_text", "encryption_applied", "markup_language")  # fmt: skip
MAX_ITEM_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Item:
    name: str
    title: str
    body: str
    properties: dict[str, str]


def parse_item(name: str, text: str) -> Item | None:
    """One item file: (title, body, properties); None when it has no properties block."""
    head, _, tail = text.rstrip("\n").rpartition("\n\n")
    lines = tail.split("\n")
    matches = [_PROPERTY.match(line) for line in lines]
    if not tail or not all(matches):
        return None
    properties = {m.group(1): m.group(2) for m in matches if m}
    title, _, body = head.partition("\n\n") if head else ("", "", "")
    return Item(name, title.strip(), body, properties)


def _items(path: Path, max_bytes: int) -> Iterator[Item | str]:
    """Every item of the export (the name of one that cannot be read, instead)."""
    limit = min(max_bytes, MAX_ITEM_BYTES)
    for name, data in _files(path, limit):
        if data is None:
            yield name
            continue
        try:
            item = parse_item(name, data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            item = None
        yield item if item is not None else name


def _files(path: Path, limit: int) -> Iterator[tuple[str, bytes | None]]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.md") if p.is_file() and not p.is_symlink())
        if not files:
            raise InvalidImportFile("The folder holds no Joplin items (.md files).")
        for file in files:
            yield file.name, (file.read_bytes() if file.stat().st_size <= limit else None)
        return
    try:
        with tarfile.open(path, "r:*") as archive:
            found = False
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if not member.isfile() or len(parts) != 1 or not member.name.endswith(".md"):
                    continue  # resources/, links, devices, anything nested
                found = True
                if member.size > limit:
                    yield member.name, None
                    continue
                extracted = archive.extractfile(member)
                yield member.name, extracted.read() if extracted else None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidImportFile(f"The Joplin export is not a readable tar ({exc}).") from None
    if not found:
        raise InvalidImportFile("The archive holds no Joplin items (.md files at its top).")


def read(path: Path, max_bytes: int) -> Iterator[SourceRecord]:
    """Each note, with its notebook path and tags (read in a first pass over the export)."""
    notebooks: dict[str, tuple[str, str]] = {}
    tags: dict[str, str] = {}
    links: list[tuple[str, str]] = []
    for item in _items(path, max_bytes):
        if isinstance(item, str):
            continue  # reported in the second pass, if it was meant to be a note
        kind, props = item.properties.get("type_"), item.properties
        if kind == _NOTEBOOK:
            notebooks[props.get("id", "")] = (item.title, props.get("parent_id", ""))
        elif kind == _TAG:
            tags[props.get("id", "")] = item.title
        elif kind == _NOTE_TAG:
            links.append((props.get("note_id", ""), props.get("tag_id", "")))
    tags_of: dict[str, list[str]] = {}
    for note_id, tag_id in links:
        if tag_id in tags:
            tags_of.setdefault(note_id, []).append(tags[tag_id])
    for item in _items(path, max_bytes):
        if isinstance(item, str):
            yield failed(item, "not a Joplin item (or larger than the limit)")
        elif item.properties.get("type_") == _NOTE:
            yield _note(item, _notebook_path(item.properties.get("parent_id", ""), notebooks),
                        tags_of.get(item.properties.get("id", ""), []))  # fmt: skip


def _notebook_path(notebook_id: str, notebooks: dict[str, tuple[str, str]]) -> str:
    names, seen = [], set()
    while notebook_id in notebooks and notebook_id not in seen:
        seen.add(notebook_id)
        title, notebook_id = notebooks[notebook_id]
        names.append(title)
    return " / ".join(reversed(names))


def _note(item: Item, notebook: str, tags: list[str]) -> SourceRecord:
    props = item.properties
    note_id = props.get("id", "")
    if not note_id:
        return failed(item.name, "the note has no id")
    if props.get("encryption_applied") == "1":
        return failed(note_id, "the note is encrypted in Joplin: export it decrypted")
    created = props.get("user_created_time") or props.get("created_time")
    if not created:
        return failed(note_id, "the note has no creation time")
    kept: dict[str, Any] = {key: value for key, value in props.items() if key not in _MAPPED}
    if notebook:
        kept["notebook"] = notebook
    place = {"latitude": _number(props.get("latitude")),
             "longitude": _number(props.get("longitude"))}  # fmt: skip
    fields: dict[str, Any] = {
        "raw_data": markdown(item.body),
        "entry_date": created,
        "tags": tags,
        "metadata": {"source": "joplin", "joplin": kept}
        | (location(place) if any(place.values()) else {}),
    }
    if item.title:
        fields["title"] = item.title[:500]
    return SourceRecord(note_id, fields)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
