"""Writing a zip archive from async code: compression is CPU work, so what is written goes to
a thread in pieces of a mebibyte, never onto the event loop a piece at a time."""

from __future__ import annotations

from typing import IO

from anyio import to_thread

PIECE_BYTES = 1024 * 1024


class MemberWriter:
    """Buffered writes to one open member of a zip archive (`ZipFile.open(name, "w")`)."""

    def __init__(self, member: IO[bytes]) -> None:
        self._member = member
        self._buffer = bytearray()

    async def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= PIECE_BYTES:
            await self.flush()

    async def flush(self) -> None:
        """Hand what is buffered to the member (call before closing it)."""
        if self._buffer:
            piece, self._buffer = bytes(self._buffer), bytearray()
            await to_thread.run_sync(self._member.write, piece)
