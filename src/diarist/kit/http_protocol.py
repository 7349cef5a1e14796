"""uvicorn's httptools protocol, refusing in problem+json what never reaches the app.

uvicorn answers a request it cannot parse with a plain-text 400, and its httptools protocol
limits neither the request line nor the headers. `diarist serve` runs uvicorn with
`--http diarist.kit.http_protocol:ProblemHttpToolsProtocol`, which refuses an over-long request
target (414), an oversized header section (431) and anything that is not valid HTTP/1.1 (400)
the way the app renders its own errors, then closes the connection as uvicorn does.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from diarist.errors import DiaristError, MalformedRequest, problem_for
from diarist.kit.middleware import (
    MAX_HEADER_BYTES,
    MAX_REQUEST_TARGET_BYTES,
    headers_too_large,
    uri_too_long,
)

# httptools hands a header over only once it is complete, buffering it meanwhile; this bounds
# the raw bytes of one request head (line, headers, separators) whatever their shape.
_MAX_HEAD_BYTES = 2 * (MAX_REQUEST_TARGET_BYTES + MAX_HEADER_BYTES)


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's `httptools` protocol with the request-head limits and problem+json refusals."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refusal: DiaristError | None = None
        self._in_head = True
        self._head_bytes = 0
        self._header_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():  # refused already; ignore what was still on its way
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)  # on a parse error, calls send_400_response
        if self._in_head and self._head_bytes > _MAX_HEAD_BYTES and not self.transport.is_closing():
            self._send_problem(headers_too_large())

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this for every parser error, including one raised by a callback below.
        self._send_problem(self._refusal or MalformedRequest("The request is not valid HTTP/1.1."))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_REQUEST_TARGET_BYTES:
            self._refusal = uri_too_long()
            raise self._refusal

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refusal = headers_too_large()
            raise self._refusal
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0

    def _send_problem(self, error: DiaristError) -> None:
        response = problem_for(error)
        head = [STATUS_LINE[response.status_code]]
        headers = [*self.server_state.default_headers, *response.raw_headers]
        head.extend(name + b": " + value + b"\r\n" for name, value in headers)
        self.transport.write(b"".join([*head, b"connection: close\r\n\r\n", response.body]))
        self.transport.close()
