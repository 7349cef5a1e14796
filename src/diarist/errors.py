"""Domain errors and their one rendering: RFC 9457 problem details with a stable `code`."""

from __future__ import annotations

import traceback
from typing import Any, ClassVar

import psycopg
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_JSON = "application/problem+json"
_log = structlog.get_logger("diarist.errors")


class DiaristError(Exception):
    """Base of every error a service may raise; carries its HTTP status and stable code."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"
    # True when the writes made before the error must still be committed (a failed login's
    # counters and security event); otherwise the unit of work rolls everything back.
    keeps_writes: ClassVar[bool] = False

    def __init__(
        self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers
        self.extra = extra


class NotFound(DiaristError):
    status = 404
    code = "not_found"
    title = "Not found"


class Forbidden(DiaristError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class Conflict(DiaristError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unprocessable(DiaristError):
    status = 422
    code = "unprocessable"
    title = "Unprocessable request"


class PayloadTooLarge(DiaristError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


# Refused by the HTTP protocol (diarist.kit.http_protocol) or a middleware, before any route.
class UriTooLong(DiaristError):
    status = 414
    code = "uri_too_long"
    title = "URI too long"


class HeadersTooLarge(DiaristError):
    status = 431
    code = "headers_too_large"
    title = "Request header fields too large"


class MalformedRequest(DiaristError):
    status = 400
    code = "malformed_request"
    title = "Malformed request"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Render one problem+json response."""
    body: dict[str, Any] = {
        "type": f"https://diarist.dev/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_for(error: DiaristError, *, instance: str | None = None) -> JSONResponse:
    """Render a domain error; also where there is no request to hand (the HTTP protocol)."""
    return problem(
        error.status,
        error.code,
        error.title,
        error.detail,
        instance=instance,
        headers=error.headers,
        **error.extra,
    )


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


async def _diarist_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DiaristError)
    return problem_for(exc, instance=request.url.path)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = _HTTP_CODES.get(exc.status_code, (f"http_{exc.status_code}", "HTTP error"))
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail is not None and detail.lower() == title.lower():
        detail = None
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem(
        exc.status_code, code, title, detail, instance=request.url.path, headers=headers or None
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the path answers. Starlette's 405 names only the first route
    that matched the path, and FastAPI has one route per method."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):  # included routers flattened
        if route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return sorted(methods)


def _clean_validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Echo the location and reason, never the submitted value: it may be diary text or a password.
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _clean_validation_errors(exc)
    if any(err["type"] == "json_invalid" for err in errors):
        return problem(
            400,
            "malformed_json",
            "Malformed JSON",
            "The request body is not valid JSON.",
            instance=request.url.path,
        )
    return problem(
        422,
        "validation_error",
        "Validation failed",
        "The request did not pass validation; see `errors`.",
        instance=request.url.path,
        errors=errors,
    )


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    # The frames, not the message: a database error's message can quote the data it refused.
    _log.error(
        "unhandled_error",
        path=request.url.path,
        error=type(exc).__name__,
        sqlstate=_sqlstate(exc),
        traceback="".join(traceback.format_tb(exc.__traceback__)),
    )
    return problem(
        500,
        "internal_error",
        "Internal server error",
        "Something went wrong on our side; the request id identifies it in the logs.",
        instance=request.url.path,
    )


_QUERY_CANCELED = "57014"  # statement_timeout


def _sqlstate(exc: Exception) -> str | None:
    """The SQLSTATE of a driver error, raised by psycopg (hot reads) or wrapped by SQLAlchemy."""
    state = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    return str(state) if state else None


def _try_again(request: Request, code: str, title: str, detail: str, after_s: int) -> JSONResponse:
    """A 503 the client may retry after `after_s` seconds; logged under `code`."""
    _log.warning(code, path=request.url.path)
    return problem(
        503, code, title, detail, instance=request.url.path, headers={"Retry-After": str(after_s)}
    )


async def _pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    """Every connection of the process stayed busy for `pool_timeout_s`: overloaded, not
    broken."""
    return _try_again(request, "server_busy", "Server busy",
                      "Every database connection is in use; try again in a moment.", 1)  # fmt: skip


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A statement that ran into `statement_timeout`, or a database that cannot be reached (an
    external server restarting, say), is a 503; anything else is unexpected."""
    if _sqlstate(exc) == _QUERY_CANCELED:
        return _try_again(request, "query_timeout", "Query took too long",
                          "The database did not answer in time; try again, or narrow the request.",
                          1)  # fmt: skip
    if _unreachable(exc):
        return _try_again(request, "database_unavailable", "Database unavailable",
                          "The database cannot be reached at the moment; try again shortly.",
                          5)  # fmt: skip
    return await _unhandled_error(request, exc)


# Connection exceptions (08), and the server shutting down, crashed or starting (57P01-57P03).
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")


def _unreachable(exc: Exception) -> bool:
    """A lost or refused connection: SQLAlchemy marks it invalidated; psycopg raises an
    OperationalError with no SQLSTATE (refused) or one of the states above."""
    if getattr(exc, "connection_invalidated", False):
        return True
    driver = getattr(exc, "orig", None) or exc
    if not isinstance(driver, psycopg.OperationalError):
        return False
    state = _sqlstate(exc)
    return state is None or state.startswith(_UNREACHABLE_STATES)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through problem+json."""
    app.add_exception_handler(DiaristError, _diarist_error)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, _pool_timeout)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _database_error)
    app.add_exception_handler(psycopg.Error, _database_error)  # hot reads (db.pipeline)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unhandled_error)
