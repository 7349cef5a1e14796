"""Memos, read from a running Memos server through its API (`GET /api/v1/memos`, page by page
with `pageToken`, an access token as Bearer). Each memo is an entry known by its resource name
(`memos/…`); Memos' visibility, state, dates and the rest are kept in `metadata.memos`. Every
imported entry is private in diarist, whatever it was in Memos. A memo's files (`attachments`,
`resources` before Memos 0.25) are fetched from the server (`/file/<name>/<filename>`) and
attached to its entry; a file Memos only links to (`externalLink`) is not fetched.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

from diarist.imports.errors import InvalidImportFile
from diarist.imports.sources._dayone import location
from diarist.imports.sources._records import (
    SourceMedia,
    SourceRecord,
    failed,
    heading_title,
    json_safe,
    markdown,
)

PAGE_SIZE = 200
MAX_PAGES = 10_000
# One page's answer is read whole: refused past this.
MAX_PAGE_BYTES = 64 * 1024 * 1024
TIMEOUT_S = 30.0
_TAG = re.compile(r"(?<![\w#&])#([^\W\d][\w/-]*)")
_MAPPED = ("name", "content", "tags", "pinned", "location")
# A file fetched from the server is kept in memory up to this size, then on disk; larger than
# MAX_FILE_BYTES it is refused (the attachment limit applies anyway).
_SPOOL_BYTES = 8 * 1024 * 1024
MAX_FILE_BYTES = 4 * 1024**3


def read_request(path: Path, max_bytes: int) -> Iterator[SourceRecord]:
    """An import of a Memos server asked for over the API: `path` holds its address and the
    access token (`{"url": ..., "token": ...}`, kept beside the job for it alone)."""
    try:
        asked = json.loads(path.read_bytes()[:max_bytes])
        url, token = asked["url"], asked["token"]
    except (ValueError, KeyError, TypeError):
        raise InvalidImportFile("Not a Memos import request.") from None
    if not isinstance(url, str) or not isinstance(token, str):
        raise InvalidImportFile("Not a Memos import request.")
    return read(url, token)


def read(base_url: str, token: str) -> Iterator[SourceRecord]:
    """Every memo the token's user can list, oldest page last (the server's order)."""
    if not re.match(r"^https?://", base_url):
        raise InvalidImportFile("Give the Memos server's address (http:// or https://).")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=TIMEOUT_S) as client:
        page_token = ""
        for _ in range(MAX_PAGES):
            params = {"pageSize": str(PAGE_SIZE)} | (
                {"pageToken": page_token} if page_token else {}
            )
            body = _page(client, params)
            memos = body.get("memos")
            if not isinstance(memos, list):
                raise InvalidImportFile("The Memos server's answer has no list of memos.")
            for number, memo in enumerate(memos):
                found = record(memo, number)
                if found.error is None and isinstance(memo, dict):
                    found = _with_files(found, memo, base_url, token)
                yield found
            page_token = body.get("nextPageToken") or ""
            if not isinstance(page_token, str) or not page_token:
                return
        raise InvalidImportFile(f"The Memos server sent more than {MAX_PAGES} pages.")


def _page(client: httpx.Client, params: dict[str, str]) -> dict[str, Any]:
    try:
        with client.stream("GET", "/api/v1/memos", params=params) as response:
            if response.status_code in (401, 403):
                raise InvalidImportFile("The Memos server refused the access token.")
            if response.status_code != 200:
                raise InvalidImportFile(f"The Memos server answered {response.status_code}.")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_PAGE_BYTES:
                    raise InvalidImportFile("A page from the Memos server is too large.")
    except httpx.HTTPError as exc:
        raise InvalidImportFile(
            f"The Memos server did not answer ({type(exc).__name__})."
        ) from None
    try:
        body = httpx.Response(200, content=bytes(data)).json()
    except ValueError:
        raise InvalidImportFile("The Memos server's answer is not JSON.") from None
    if not isinstance(body, dict):
        raise InvalidImportFile("The Memos server's answer is not a JSON object.")
    return body


def record(memo: Any, number: int) -> SourceRecord:
    """One memo as diarist fields."""
    if not isinstance(memo, dict):
        return failed(f"#{number}", "a memo is not a JSON object")
    name = memo.get("name") or memo.get("uid")
    if not isinstance(name, str) or not name:
        return failed(f"#{number}", "the memo has no name")
    content = memo.get("content")
    created = memo.get("displayTime") or memo.get("createTime")
    if not isinstance(content, str) or not isinstance(created, str):
        return failed(name, "the memo has no content or no time")
    tags = memo.get("tags")
    if not isinstance(tags, list):
        tags = _TAG.findall(content)
    kept = {key: value for key, value in memo.items() if key not in _MAPPED}
    place = memo.get("location")
    where: dict[str, Any] = {}
    if isinstance(place, dict):
        named = {"latitude": place.get("latitude"), "longitude": place.get("longitude"),
                 "placeName": place.get("placeholder")}  # fmt: skip
        where = location(named)
    fields: dict[str, Any] = {
        "raw_data": markdown(content),
        "entry_date": created,
        "tags": list(dict.fromkeys(str(tag) for tag in tags)),
        "pinned": memo.get("pinned") is True,
        "metadata": {"source": "memos", "memos": kept} | where,
    }
    if title := heading_title(content):
        fields["title"] = title
    return SourceRecord(name, fields)


def _with_files(
    found: SourceRecord, memo: dict[str, Any], base_url: str, token: str
) -> SourceRecord:
    """The memo's record with its files, each fetched from the server when attached."""
    items = memo.get("attachments", memo.get("resources"))
    media = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("externalLink"):
            continue
        name, filename = item.get("name"), item.get("filename")
        if not (isinstance(name, str) and isinstance(filename, str) and name and filename):
            continue
        path = f"/file/{quote(name)}/{quote(filename)}"
        opener = functools.partial(_download, base_url.rstrip("/") + path, token)
        meta = {"source": "memos", "memos": json_safe(item)}
        media.append(SourceMedia(name[:200], filename, opener, meta))
    if not media:
        return found
    return SourceRecord(found.import_id, found.fields, None, tuple(media))


def _download(url: str, token: str) -> IO[bytes]:
    """A file's bytes from the server, in a temporary file (read from its start)."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=TIMEOUT_S) as response:
            if response.status_code != 200:
                raise InvalidImportFile(f"The Memos server answered {response.status_code}.")
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise InvalidImportFile("A file from the Memos server is too large.")
                spool.write(chunk)
    except httpx.HTTPError as exc:
        spool.close()
        raise InvalidImportFile(
            f"The Memos server did not answer ({type(exc).__name__})."
        ) from None
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool
