"""HTTP range requests (RFC 9110 §14): one byte range of a representation."""

from __future__ import annotations

import re

from diarist.attachments.errors import RangeNotSatisfiable

_SPEC = re.compile(r"^bytes=(\d*)-(\d*)$")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The `(start, stop)` (stop exclusive) a Range header asks of `size` bytes, or None for
    the whole representation: no header, one we ignore (not bytes, several ranges, malformed:
    RFC 9110 lets a server answer those with the whole). Unsatisfiable: 416."""
    if header is None:
        return None
    found = _SPEC.match(header.strip().replace(" ", ""))
    if found is None:
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size
    start = int(first)
    stop = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise _unsatisfiable(size)
    return start, stop


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The range asked for lies outside the {size} bytes there are.",
        headers={"Content-Range": f"bytes */{size}"},
    )
