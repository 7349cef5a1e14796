"""Request correlation (an `X-Request-ID` per request, bound into every log line, echoed back)
and the request size limits."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from diarist.errors import DiaristError, HeadersTooLarge, PayloadTooLarge, UriTooLong, problem_for

REQUEST_ID_HEADER = "x-request-id"
# The request target (path and query string, as sent) and the header section (names and values
# together) a request may have; enforced on the wire by diarist.kit.http_protocol, and here for
# any other server.
MAX_REQUEST_TARGET_BYTES = 8 * 1024
MAX_HEADER_BYTES = 16 * 1024
# Accept a caller's id only if it is short and plain; otherwise make our own (no log injection).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_log = structlog.get_logger("diarist.request")


def current_request_id() -> str:
    """The id of the request being served ("" outside one): the database stores it with the
    audit rows a request writes (`diarist.request_id`, transaction-local)."""
    found = structlog.contextvars.get_contextvars().get("request_id")
    return found if isinstance(found, str) else ""


class RequestContextMiddleware:
    """Pure ASGI middleware (no per-request task or body buffering, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _SAFE_ID.match(candidate):
                    request_id = candidate
                break
        request_id = request_id or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                _log.info(
                    "request",
                    method=scope["method"],
                    path=_SECRET_IN_PATH.sub(r"\1…", scope["path"]),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.clear_contextvars()


# A URL that is itself the credential (the calendar feed's token) is never logged whole.
_SECRET_IN_PATH = re.compile(r"(dcal_)[A-Za-z0-9_-]+")


class RequestHeadLimitMiddleware:
    """Refuse an over-long request target (414) or header section (431), in problem+json."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = len(scope.get("raw_path") or scope["path"]) + len(scope["query_string"])
        if target > MAX_REQUEST_TARGET_BYTES:
            await _refuse(scope, send, uri_too_long())
            return
        if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEADER_BYTES:
            await _refuse(scope, send, headers_too_large())
            return
        await self.app(scope, receive, send)


def uri_too_long() -> UriTooLong:
    return UriTooLong(
        f"The path and query string are limited to {MAX_REQUEST_TARGET_BYTES} bytes together."
    )


def headers_too_large() -> HeadersTooLarge:
    return HeadersTooLarge(
        f"Header names and values are limited to {MAX_HEADER_BYTES} bytes in total."
    )


class _BodyOverLimit(HTTPException):
    """Raised from `receive` when a body without Content-Length grows past the limit: FastAPI
    re-raises an HTTPException met while reading the body (any other error becomes its 400), and
    the error handler renders it as 413 `payload_too_large`."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, _body_limit_detail(max_bytes))


class BodyLimitMiddleware:
    """Refuse request bodies above a limit (413 problem+json): a declared Content-Length before
    reading anything, a chunked body as soon as what arrived passes the limit. `uploads` names
    the paths (of POST requests) that take larger bodies, with their own limits."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, uploads: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.max_bytes
        if scope["method"] == "POST":
            max_bytes = self.uploads.get(scope["path"].rstrip("/"), max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > max_bytes:
                    error = PayloadTooLarge(_body_limit_detail(max_bytes))
                    await _refuse(scope, send, error)
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyOverLimit(max_bytes)
            return message

        await self.app(scope, counting_receive, send)


def _body_limit_detail(max_bytes: int) -> str:
    return f"Request bodies are limited to {max_bytes} bytes."


async def _refuse(scope: Scope, send: Send, error: DiaristError) -> None:
    await problem_for(error, instance=scope["path"])(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
