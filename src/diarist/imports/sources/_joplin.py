"""Joplin's exports: RAW (a folder of `<id>.md` items) and JEX (a tar of the same, with
`resources/` beside). Each item is its text, a blank line, then `key: value` lines; `type_`
says what it is: 1 a note, 2 a notebook, 5 a tag, 6 a note's tag, 4 a resource (a file).

Notes become entries (known by Joplin's id); their notebook path, dates, to-do state and the
rest of Joplin's fields are kept in `metadata.joplin`, coordinates as `metadata.location`.
The resources a note links (`![](:/<id>)`, `[file](:/<id>)`) whose file the export holds
(`resources/<id>.<ext>`) are attached to its entry; the text keeps the links.
Nothing is extracted from the tar: members are read from it, links and devices are skipped.
"""

from __future__ import annotations

import functools
import re
import tarfile
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from diarist.imports.errors import ImportTooLarge, InvalidImportFile
from diarist.imports.sources._dayone import location
from diarist.imports.sources._records import SourceMedia, SourceRecord, failed, markdown

_PROPERTY = re.compile(r"^([a-z_]+): ?(.*)$")
_NOTE, _NOTEBOOK, _RESOURCE, _TAG, _NOTE_TAG = "1", "2", "4", "5", "6"
_RESOURCE_LINK = re.compile(r"\]\(:/([0-9a-f]{32})\)")
Opener = Callable[[], IO[bytes]]
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
    resources: dict[str, Item] = {}
    for item in _items(path, max_bytes):
        if isinstance(item, str):
            continue  # reported in the second pass, if it was meant to be a note
        kind, props = item.properties.get("type_"), item.properties
        if kind == _NOTEBOOK:
            notebooks[props.get("id", "")] = (item.title, props.get("parent_id", ""))
        elif kind == _TAG:
            tags[props.get("id", "")] = item.title
        elif kind == _RESOURCE:
            resources[props.get("id", "")] = item
        elif kind == _NOTE_TAG:
            links.append((props.get("note_id", ""), props.get("tag_id", "")))
    tags_of: dict[str, list[str]] = {}
    for note_id, tag_id in links:
        if tag_id in tags:
            tags_of.setdefault(note_id, []).append(tags[tag_id])
    files = _resource_files(path, max_bytes)
    for item in _items(path, max_bytes):
        if isinstance(item, str):
            yield failed(item, "not a Joplin item (or larger than the limit)")
        elif item.properties.get("type_") == _NOTE:
            note = _note(item, _notebook_path(item.properties.get("parent_id", ""), notebooks),
                         tags_of.get(item.properties.get("id", ""), []))  # fmt: skip
            yield _with_resources(note, item.body, resources, files)


def _with_resources(
    note: SourceRecord, body: str, resources: dict[str, Item], files: dict[str, Opener]
) -> SourceRecord:
    """The note with the resources it links whose files the export holds (and the ids of
    those it does not)."""
    if note.error is not None:
        return note
    media, missing = [], []
    for resource_id in dict.fromkeys(_RESOURCE_LINK.findall(body)):
        item = resources.get(resource_id)
        opener = files.get(resource_id)
        if item is None or opener is None:
            missing.append(resource_id)
            continue
        props = item.properties
        extension = props.get("file_extension") or "bin"
        name = props.get("filename") or item.title or f"{resource_id}.{extension}"
        meta = {"source": "joplin", "joplin": {"title": item.title, **props}}
        media.append(SourceMedia(resource_id, name, opener, meta))
    if not media and not missing:
        return note
    return SourceRecord(note.import_id, note.fields, None, tuple(media), tuple(missing))


def _resource_files(path: Path, max_bytes: int) -> dict[str, Opener]:
    """How to open each resource's file in the export (`resources/<id>.<ext>`), by id."""
    found: dict[str, Opener] = {}
    if path.is_dir():
        folder = path / "resources"
        for file in sorted(folder.iterdir()) if folder.is_dir() else []:
            if file.is_file() and not file.is_symlink():
                found[file.name.split(".", 1)[0]] = functools.partial(_open_file, file)
        return found
    members = _TarMembers(path, max_bytes)
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if member.isfile() and len(parts) == 2 and parts[0] == "resources":
                    found[parts[1].split(".", 1)[0]] = functools.partial(members.open, member)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidImportFile(f"The Joplin export is not a readable tar ({exc}).") from None
    return found


def _open_file(path: Path) -> IO[bytes]:
    return path.open("rb")


class _TarMembers:
    """Files of the tar at `path`, opened on first use from one handle, closed when the last
    opener is gone (an import attaches a batch's files after the reader moved on)."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self._path, self._max_bytes = path, max_bytes
        self._archive: tarfile.TarFile | None = None

    def open(self, member: tarfile.TarInfo) -> IO[bytes]:
        if member.size > self._max_bytes:
            raise ImportTooLarge(f"{member.name} is larger than {self._max_bytes} bytes.")
        try:
            if self._archive is None:
                self._archive = tarfile.open(self._path, "r:*")  # noqa: SIM115 - see above
                weakref.finalize(self, self._archive.close)
            extracted = self._archive.extractfile(member)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise InvalidImportFile(f"{member.name} cannot be read ({exc}).") from None
        if extracted is None:
            raise InvalidImportFile(f"{member.name} is not a file.")
        return extracted


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
