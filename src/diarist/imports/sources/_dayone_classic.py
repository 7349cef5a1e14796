"""Day One Classic: one property list per entry (`<UUID>.doentry`, in `Journal.dayone/entries/`),
read from a folder, a zip of one, or a single file. The same journal exported later as Day One
JSON carries the same UUIDs: both are the source `dayone`, so importing one after the other
updates entries instead of duplicating them."""

from __future__ import annotations

import plistlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources._archive import files_in_zip
from diarist.imports.sources._dayone import location
from diarist.imports.sources._records import (
    SourceRecord,
    failed,
    heading_title,
    json_safe,
    markdown,
)
from diarist.kit.validation import time_zones

_MAPPED = ("UUID", "Creation Date", "Time Zone", "Entry Text", "Tags", "Starred")
# One entry's property list is read whole: far above any real one.
MAX_ENTRY_BYTES = 16 * 1024 * 1024


def read(path: Path, max_bytes: int) -> Iterator[SourceRecord]:
    """Each `.doentry` under `path`, in name order."""
    limit = min(max_bytes, MAX_ENTRY_BYTES)
    if path.is_file() and path.suffix.lower() != ".doentry":
        found = False
        for name, data in files_in_zip(path, ".doentry", limit):
            found = True
            yield _too_large(name, limit) if data is None else record(name, data)
        if not found:
            raise InvalidImportFile("The archive holds no .doentry files.")
        return
    files = [path] if path.is_file() else sorted(path.rglob("*.doentry"))
    if not files:
        raise InvalidImportFile("Give a Day One Classic journal: a folder of .doentry files.")
    for file in files:
        if file.is_symlink() or file.stat().st_size > limit:
            yield _too_large(file.name, limit)
            continue
        yield record(file.name, file.read_bytes())


def _too_large(name: str, limit: int) -> SourceRecord:
    return failed(name, f"the file is larger than {limit} bytes (or a link)")


def record(name: str, data: bytes) -> SourceRecord:
    """One `.doentry` as diarist fields."""
    try:
        entry = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, OverflowError):
        return failed(name, "the file is not a property list")
    if not isinstance(entry, dict):
        return failed(name, "the property list is not a dictionary")
    uid = entry.get("UUID")
    if not isinstance(uid, str) or not uid.strip():
        return failed(name, "the entry has no UUID")
    created = entry.get("Creation Date")
    if not isinstance(created, datetime):
        return failed(uid, "the entry has no Creation Date")
    text = entry.get("Entry Text")
    tags = entry.get("Tags", [])
    if not isinstance(text, str) or not isinstance(tags, list):
        return failed(uid, "Entry Text or Tags has the wrong type")
    kept = {
        key: json_safe(value, naive_is_utc=True)
        for key, value in entry.items()
        if key not in _MAPPED
    }
    zone = entry.get("Time Zone")
    if isinstance(zone, str) and zone not in time_zones():
        kept["Time Zone"] = zone
        zone = None
    fields: dict[str, Any] = {
        # Property list dates are UTC.
        "entry_date": created.replace(tzinfo=UTC).isoformat(),
        "raw_data": markdown(text),
        "tags": [str(tag) for tag in tags],
        "starred": entry.get("Starred") is True,
        "metadata": {"source": "dayone", "dayone_classic": kept} | _location(entry),
    }
    if zone:
        fields["timezone"] = zone
    if title := heading_title(text):
        fields["title"] = title
    return SourceRecord(uid, fields)


# Day One Classic's names of a place's fields, as Day One JSON names them.
_PLACE_KEYS = {"Latitude": "latitude", "Longitude": "longitude", "Place Name": "placeName",
               "Locality": "localityName", "Administrative Area": "administrativeArea",
               "Country": "country"}  # fmt: skip


def _location(entry: dict[str, Any]) -> dict[str, Any]:
    place = entry.get("Location")
    if not isinstance(place, dict):
        return {}
    return location({_PLACE_KEYS.get(key, key): value for key, value in place.items()})
