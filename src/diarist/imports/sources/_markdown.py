"""A folder of Markdown notes (Obsidian, iA Writer, a plain folder): one entry per `.md` file.

YAML front matter (`---` lines at the top) gives `title`, `date`, `tags`, `starred`,
`pinned`, `timezone` and `mood` (a number 1-10; as diarist's Markdown export writes them); its
other keys are kept under `metadata.front_matter` (`id`, an export's entry id, is dropped;
`attachments`, the files of an entry diarist's export lists, are attached).
Without a date, a file named like a daily note (`2024-05-01.md`, `2024-05-01 Walk.md`) takes
that day; otherwise the file's modification time. Without a title, a first `# heading`, else
the file name. `[[wiki links]]` stay as they are written. A file is known by its path inside
the folder.

Files a note embeds (`![alt](path/to/photo.jpg)`, Obsidian's `![[photo.jpg]]`) are attached to
its entry when the folder (or zip) holds them: a path is taken from the note's own folder, an
Obsidian name from anywhere in the folder (the shortest path wins, as Obsidian finds it). The
text keeps its references as written; a file outside the folder, a symlink or a web address is
never read.
"""

from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

import yaml

from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources._archive import dated_files_in_zip, zip_members
from diarist.imports.sources._records import (
    SourceMedia,
    SourceRecord,
    failed,
    heading_title,
    json_safe,
    markdown,
)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_DAILY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\b|_)")
MAPPED = (
    "title", "date", "created", "tags", "starred", "pinned", "timezone", "id", "attachments"
)  # fmt: skip
# A note is read whole: never more than the largest entry diarist can be configured to take.
MAX_NOTE_BYTES = 64 * 1024 * 1024
# `![alt](target "title")` (the target maybe in <>) and Obsidian's `![[target|size]]`.
_EMBED = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|!\[\[([^\]|#]+)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
Files = Mapping[str, Callable[[], IO[bytes]]]


def read(path: Path, max_bytes: int) -> Iterator[SourceRecord]:
    """Each Markdown file under `path` (a folder, a zip of one, or one file), in path order;
    hidden folders (`.obsidian`, `.git`, `.trash`) are skipped, and so are symlinks (a note is
    a file here)."""
    files_bytes, max_bytes = max_bytes, min(max_bytes, MAX_NOTE_BYTES)
    if path.is_file() and zipfile.is_zipfile(path):
        any_note = False
        beside = zip_members(path, files_bytes, lambda n: not n.lower().endswith(".md"))
        for name, data, written in dated_files_in_zip(path, ".md", max_bytes):
            any_note = True
            if data is None:
                yield failed(name, f"the file is larger than {max_bytes} bytes")
            else:
                yield _with_media(_note(name, data, written), beside)
        if not any_note:
            raise InvalidImportFile("The zip holds no .md files.")
        return
    if path.is_file():
        yield _read_file(path, path.name, max_bytes)
        return
    if not path.is_dir():
        raise InvalidImportFile("Give a folder of Markdown files (or one .md file).")
    files = sorted(
        found
        for found in path.rglob("*.md")
        if found.is_file()
        and not found.is_symlink()
        and not any(part.startswith(".") for part in found.relative_to(path).parts)
    )
    if not files:
        raise InvalidImportFile("The folder holds no .md files.")
    others = _folder_files(path)
    for found in files:
        yield _with_media(_read_file(found, found.relative_to(path).as_posix(), max_bytes), others)


def _folder_files(root: Path) -> dict[str, Callable[[], IO[bytes]]]:
    """How to open each file of the folder but notes, by its path inside it (no symlinks, no
    hidden folders)."""
    found: dict[str, Callable[[], IO[bytes]]] = {}
    for item in root.rglob("*"):
        relative = item.relative_to(root)
        if (item.is_symlink() or not item.is_file() or item.suffix.lower() == ".md"
                or any(part.startswith(".") for part in relative.parts)):  # fmt: skip
            continue
        found[relative.as_posix()] = functools.partial(_open_file, item)
    return found


def _open_file(path: Path) -> IO[bytes]:
    return path.open("rb")


def _with_media(record: SourceRecord, files: Files) -> SourceRecord:
    """The note's record with the files it embeds that the folder holds (and those it does
    not, to report)."""
    if record.error is not None:
        return record
    text = record.fields["raw_data"]["text"]
    folder = posixpath.dirname(record.import_id)
    by_name: dict[str, str] | None = None
    media: list[SourceMedia] = []
    missing: list[str] = []
    listed = record.fields["metadata"].pop("attachments", None)  # diarist's export lists them
    embeds = _EMBED.findall(text)
    if isinstance(listed, list):
        embeds += [(str(item), "") for item in listed if isinstance(item, str)]
    for written, wiki in embeds:
        target = unquote(written or wiki).strip()
        if not target or _SCHEME.match(target) or target.startswith(("/", "#")):
            continue  # a web address, an absolute path, an anchor: not the folder's
        path = posixpath.normpath(posixpath.join(folder, target)) if written else target
        if path not in files and wiki:  # Obsidian: a bare name, wherever it lies
            if by_name is None:
                by_name = {}
                for name in sorted(files, key=lambda n: (n.count("/"), n)):
                    by_name.setdefault(posixpath.basename(name), name)
            path = by_name.get(posixpath.basename(target), path)
        if path.startswith("../") or path in {m.source_id for m in media}:
            continue
        if path not in files:
            missing.append(target[:200])
            continue
        if len(path) > 200:
            continue
        meta = {"source": "markdown", "path": path}
        media.append(SourceMedia(path, posixpath.basename(path), files[path], meta))
    if not media and not missing:
        return record
    return SourceRecord(record.import_id, record.fields, None, tuple(media), tuple(missing))


def _read_file(path: Path, name: str, max_bytes: int) -> SourceRecord:
    if path.stat().st_size > max_bytes:
        return failed(name, f"the file is larger than {max_bytes} bytes")
    return _note(name, path.read_bytes(), path.stat().st_mtime)


def _note(name: str, data: bytes, mtime: float | None) -> SourceRecord:
    """One note; `mtime` (seconds) dates it when nothing else does (none: the import's time)."""
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return failed(name, "the file is not UTF-8 text")
    front: dict[str, Any] = {}
    if match := _FRONT_MATTER.match(source):
        try:
            loaded = yaml.safe_load(match.group(1) or "") or {}
        except yaml.YAMLError:
            return failed(name, "the front matter is not valid YAML")
        if not isinstance(loaded, dict):
            return failed(name, "the front matter is not a mapping of keys to values")
        front, source = loaded, source[match.end() :]
    moment = _moment(front.get("date", front.get("created")), Path(name).stem, mtime)
    if moment is None:
        return failed(name, "the front matter's date is not a date")
    tags = front.get("tags") or []
    if isinstance(tags, str):
        tags = [tag.strip() for tag in re.split(r"[,\s]+", tags) if tag.strip()]
    if not isinstance(tags, list):
        return failed(name, "tags is neither a list nor a comma-separated string")
    title = front.get("title")
    if "title" in front and title is None:
        title = ""  # `title: null`: the note has none (as diarist's export writes it)
    elif not isinstance(title, str) or not title.strip():
        title = heading_title(source) or Path(name).stem
    rest = {str(key): json_safe(value) for key, value in front.items() if key not in MAPPED}
    files = front.get("attachments")
    fields: dict[str, Any] = {
        "title": title.strip()[:500] or None,
        "raw_data": markdown(source),
        "entry_date": moment,
        "tags": [str(tag).lstrip("#") for tag in tags if str(tag).lstrip("#")],
        "starred": front.get("starred") is True,
        "pinned": front.get("pinned") is True,
        "metadata": {"source": "markdown", "file": name} | ({"front_matter": rest} if rest else {}),
    }
    if isinstance(files, list):  # for _with_media, which takes it out again
        fields["metadata"]["attachments"] = files
    if isinstance(front.get("timezone"), str):
        fields["timezone"] = front["timezone"]
    mood = front.get("mood")
    if isinstance(mood, int) and not isinstance(mood, bool) and 1 <= mood <= 10:
        fields["mood_rating"] = mood
        rest.pop("mood")
        if not rest:
            fields["metadata"].pop("front_matter")
    return SourceRecord(name, fields)


def _moment(value: Any, stem: str, mtime: float | None) -> str | None:
    """The entry's date as ISO text; naive (a wall-clock time) unless the source gave a zone."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).isoformat()
        except ValueError:
            return None
    if value is not None:
        return None
    if daily := _DAILY.match(stem):
        try:
            return datetime.fromisoformat(daily.group(1)).isoformat()
        except ValueError:
            pass
    moment = datetime.fromtimestamp(mtime, UTC) if mtime is not None else datetime.now(UTC)
    return moment.isoformat()
