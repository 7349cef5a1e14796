"""The web app's session and its protections: the session cookie holds one of the account's
ordinary session tokens (so a browser's session is listed, revoked and expires like any
other), every form carries a CSRF token, and every page is sent with a strict Content
Security Policy (no inline script, nothing from another origin).

CSRF: a signed-in form's token is an HMAC of the session token under a key derived from the
server's secret (`Keyring.form_token`: nothing stored); the sign-in and sign-up forms, before
any session exists, use a random token in a cookie of their own that the form repeats
(double submit). Both are compared in constant time. The session cookie is also
SameSite=Lax, so a cross-site form post never carries it."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Literal

from fastapi import Request, Response

SESSION_COOKIE = "diarist_session"
FORM_COOKIE = "diarist_form"
FLOW_COOKIE = "diarist_oidc"
CSRF_FIELD = "csrf"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; manifest-src 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # A page shows someone's journal: never kept by a shared cache or the back button's disk.
    "Cache-Control": "no-store",
}


def _secure(request: Request) -> bool:
    """Whether the cookies are Secure (DIARIST_WEB__SECURE_COOKIES, docs/web.md)."""
    mode = request.app.state.settings.web.secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def _name(request: Request, name: str) -> str:
    """A Secure cookie is a `__Host-` cookie: this host only, path /, never set by a
    subdomain (which could otherwise plant a form token of its choosing)."""
    return f"__Host-{name}" if _secure(request) else name


def session_token(request: Request) -> str | None:
    token = request.cookies.get(_name(request, SESSION_COOKIE), "").strip()
    return token or None


def _set(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    samesite: Literal["lax", "strict"],
    expires: datetime | None = None,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        _name(request, name),
        value,
        expires=expires.astimezone(UTC) if expires else None,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite=samesite,
        secure=_secure(request),
    )


def _clear(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        _name(request, name), path="/", httponly=True, samesite="lax", secure=_secure(request)
    )


def set_session(
    response: Response, request: Request, token: str, expires_at: datetime | None
) -> None:
    _set(response, request, SESSION_COOKIE, token, samesite="lax", expires=expires_at)


def clear_session(response: Response, request: Request) -> None:
    _clear(response, request, SESSION_COOKIE)


def provider_flow(request: Request) -> str | None:
    """The sealed sign-in flow the browser took to an OpenID provider (accounts.oidc.Flow)."""
    return request.cookies.get(_name(request, FLOW_COOKIE))


def set_provider_flow(response: Response, request: Request, sealed: str, max_age: int) -> None:
    # Lax: the provider sends the browser back with a cross-site top-level GET, which
    # carries Lax cookies (and only such a navigation does).
    _set(response, request, FLOW_COOKIE, sealed, samesite="lax", max_age=max_age)


def clear_provider_flow(response: Response, request: Request) -> None:
    _clear(response, request, FLOW_COOKIE)


def form_token(request: Request) -> str:
    """The CSRF token of a signed-out form (sign in, sign up): the browser's, or a new one
    (`remember_form_token` sets it)."""
    token = request.cookies.get(_name(request, FORM_COOKIE), "")
    return token if len(token) == 43 else secrets.token_urlsafe(32)


def form_cookie(request: Request) -> str | None:
    """The signed-out forms' token the browser holds."""
    return request.cookies.get(_name(request, FORM_COOKIE))


def remember_form_token(response: Response, request: Request, token: str) -> None:
    _set(response, request, FORM_COOKIE, token, samesite="strict")


def csrf_matches(expected: str | None, given: object) -> bool:
    """Whether a form's token is the expected one (compared in constant time)."""
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
