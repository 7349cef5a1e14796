"""The minimal HTTP/1.1 keep-alive client of the driver (httpx costs about ten times the CPU
per request, which on two cores is taken from the server under test)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import Callable

from bench.dataset import BenchUser

HOST = "127.0.0.1"

Request = tuple[bytes, bytes, int]  # head, body, the status that means success
Builder = Callable[[random.Random, BenchUser], Request]


class HttpConnection:
    """One keep-alive connection; requests are sent one after another."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        reader, writer = self.reader, self.writer
        writer.write(head + body)
        raw = await reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        headers = raw.lower()
        close = b"\r\nconnection: close" in headers
        if b"\r\ntransfer-encoding: chunked" in headers:
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await reader.readexactly(size + 2))
                if size == 0:
                    break
            payload = b"".join(chunk[:-2] for chunk in chunks)
        else:
            found = re.search(rb"\r\ncontent-length: *(\d+)", headers)
            payload = await reader.readexactly(int(found.group(1))) if found else b""
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def format_request_head(method: str, path: str, token: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", f"Authorization: Bearer {token}"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def send_requests(
    port: int, build: Builder, user: BenchUser, requests: int, seed: int
) -> tuple[int, bytes]:
    """Send `requests` requests one after another on one connection; the last response."""

    async def go() -> tuple[int, bytes]:
        conn = HttpConnection(port)
        rng = random.Random(seed)
        try:
            for _ in range(requests):
                head, body, _expected = build(rng, user)
                response = await conn.request(head, body)
        finally:
            await conn.close()
        return response

    return asyncio.run(go())
