"""One reader per format, each streaming `SourceRecord`s from a path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from diarist.imports.sources import (
    _dayone,
    _dayone_classic,
    _diarist,
    _joplin,
    _jrnl,
    _markdown,
    _memos,
)
from diarist.imports.sources._records import SourceRecord

Reader = Callable[[Path, int], Iterator[SourceRecord]]

# Format name -> reader (path, size limit in bytes of one document).
READERS: dict[str, Reader] = {
    "dayone": _dayone.read,
    "dayone-classic": _dayone_classic.read,
    "diarist": _diarist.read,
    "joplin": _joplin.read,
    "jrnl": _jrnl.read_text,
    "jrnl-json": _jrnl.read_json,
    "markdown": _markdown.read,
    # Over the API: a file with the server's address and token (diarist import memos URL
    # reads the server directly).
    "memos": _memos.read_request,
}

# What each format records as the entry's source (`import_source`): the two forms of Day One
# are one source, and so are jrnl's (the same ids either way).
SOURCE_NAMES = {
    "dayone": "dayone", "dayone-classic": "dayone", "diarist": "diarist", "joplin": "joplin",
    "jrnl": "jrnl",
    "jrnl-json": "jrnl",
    "markdown": "markdown",
    "memos": "memos",
}  # fmt: skip

# Memos is read from its server's API (a URL and an access token), not from a file.
read_memos = _memos.read

__all__ = ["READERS", "SOURCE_NAMES", "Reader", "SourceRecord", "read_memos"]
