"""jrnl's journals: its plain-text file (`[YYYY-MM-DD HH:MM] Title. Body`, `@tags`, a trailing
`*` for a starred entry) and its JSON export (`{"entries": [{"date", "time", "title", "body",
"tags", "starred"}]}`). jrnl's times are wall-clock times without a zone: they take the zone
the import names (the user's by default).

jrnl entries have no id of their own: an entry is known by its date and time, and by its place
among the entries of the same minute (`2020-08-29T11:11#1`), so an edited entry is updated on a
later import and two entries of one minute stay two.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import ijson

from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources._archive import documents
from diarist.imports.sources._records import SourceRecord, failed, markdown

# jrnl's default `timeformat` (%Y-%m-%d %H:%M), with seconds or a 12-hour clock too.
_HEADER = re.compile(r"^\[(\d{4}-\d{2}-\d{2}) (\d{1,2}:\d{2}(?::\d{2})?(?: ?[AaPp][Mm])?)\] ?(.*)$")
_SENTENCE_END = re.compile(r"[.?!]+(?=\s|$)")
_TAG = re.compile(r"(?<![\w@])@([^\W\d][\w/+#-]*)")


def read_text(path: Path, max_bytes: int) -> Iterator[SourceRecord]:
    """The entries of a jrnl plain-text journal, one at a time."""
    moments: Counter[str] = Counter()
    header: re.Match[str] | None = None
    lines: list[str] = []
    for _name, stream in documents(path, ".txt", max_bytes):
        decoder = codecs.getincrementaldecoder("utf-8")()
        pending = ""
        while True:
            chunk = stream.read(1 << 16)
            try:
                pending += decoder.decode(chunk, final=not chunk) + ("" if chunk else "\n")
            except UnicodeDecodeError as exc:
                raise InvalidImportFile(f"The journal is not UTF-8 text ({exc.reason}).") from None
            *complete, pending = pending.split("\n")
            for line in complete:
                if (match := _HEADER.match(line)) and _moment(match) is not None:
                    if header is not None:
                        yield _text_record(header, lines, moments)
                    header, lines = match, []
                elif header is not None:
                    lines.append(line)
                elif line.strip():
                    raise InvalidImportFile("The file does not start with a jrnl entry ([date]).")
            if not chunk:
                break
    if header is not None:
        yield _text_record(header, lines, moments)


def _moment(header: re.Match[str]) -> datetime | None:
    clock = header.group(2).upper().replace(" ", "")
    for layout in ("%H:%M", "%H:%M:%S", "%I:%M%p", "%I:%M:%S%p"):
        try:
            return datetime.strptime(f"{header.group(1)} {clock}", f"%Y-%m-%d {layout}")
        except ValueError:
            continue
    return None


def _text_record(header: re.Match[str], lines: list[str], moments: Counter[str]) -> SourceRecord:
    moment = _moment(header)
    assert moment is not None  # headers are matched only with a valid moment
    first = header.group(3).rstrip()
    starred = first.endswith("*") and (first == "*" or first[-2:-1].isspace())
    if starred:
        first = first[:-1].rstrip()
    cut = _SENTENCE_END.search(first)
    title, rest = (first[: cut.end()], first[cut.end() :].strip()) if cut else (first, "")
    body = "\n".join([rest, *lines] if rest else lines).strip("\n")
    return _record(moment, title, body, _TAG.findall(f"{title}\n{body}"), starred, moments)


def _record(
    moment: datetime,
    title: str,
    body: str,
    tags: list[str],
    starred: bool,
    moments: Counter[str],
    extra: dict[str, Any] | None = None,
) -> SourceRecord:
    key = moment.isoformat(timespec="minutes")
    moments[key] += 1
    fields: dict[str, Any] = {
        "raw_data": markdown(body),
        "entry_date": moment.isoformat(),
        "tags": list(dict.fromkeys(tags)),
        "starred": starred,
        "metadata": {"source": "jrnl"} | ({"jrnl": extra} if extra else {}),
    }
    if title:
        fields["title"] = title[:500]
    return SourceRecord(f"{key}#{moments[key]}", fields)


def read_json(path: Path, max_bytes: int) -> Iterator[SourceRecord]:
    """The entries of jrnl's JSON export (`jrnl --export json`)."""
    moments: Counter[str] = Counter()
    for name, stream in documents(path, ".json", max_bytes):
        try:
            for number, entry in enumerate(ijson.items(stream, "entries.item", use_float=True)):
                yield _json_record(entry, number, moments)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise InvalidImportFile(f"{name} is not valid jrnl JSON ({exc}).") from None


def _json_record(entry: Any, number: int, moments: Counter[str]) -> SourceRecord:
    if not isinstance(entry, dict):
        return failed(f"#{number}", "an entry is not a JSON object")
    date, clock = entry.get("date"), entry.get("time")
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}")
    except (TypeError, ValueError):
        return failed(f"#{number}", "the entry has no valid date and time")
    title, body = entry.get("title") or "", entry.get("body") or ""
    tags = entry.get("tags") or []
    if not all(isinstance(v, str) for v in (title, body)) or not isinstance(tags, list):
        return failed(f"#{number}", "title, body or tags have the wrong type")
    names = [tag.lstrip("@") for tag in tags if isinstance(tag, str) and tag.lstrip("@")]
    mapped = {"date", "time", "title", "body", "tags", "starred"}
    extra = {key: value for key, value in entry.items() if key not in mapped}
    return _record(moment, title, body, names, entry.get("starred") is True, moments, extra)
