"""A browser's part in the web app's tests, without a browser: forms read from the page
and posted back with their CSRF token, the session kept in the client's cookies."""

from __future__ import annotations

import re
import uuid
from html import unescape
from html.parser import HTMLParser

import httpx

from tests.factories.accounts import PASSWORD

_FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's forms (the CSRF token, an idempotency key, a version)."""
    return {name: unescape(value) for name, value in _FIELD.findall(html)}


async def submit(
    client: httpx.AsyncClient, form_page: str, action: str, fields: dict[str, str]
) -> httpx.Response:
    """Open `form_page`, then post `fields` to `action` with the page's hidden fields."""
    shown = await client.get(form_page)
    assert shown.status_code == 200, shown.text
    return await client.post(action, data={**hidden_fields(shown.text), **fields})


async def signed_up_in_browser(client: httpx.AsyncClient) -> str:
    """A new account made through the sign-up page (signed in by its cookie); its email."""
    email = f"web-{uuid.uuid4().hex[:12]}@example.com"
    fields = {"name": "Ada", "email": email, "password": PASSWORD}
    response = await submit(client, "/register", "/register", fields)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"
    return email


async def written(client: httpx.AsyncClient, **fields: str) -> str:
    """An entry written on the writing page; its page's path."""
    response = await submit(client, "/write", "/write", fields)
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    assert location.startswith("/entries/")
    return location


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def active_parts(html: str) -> list[str]:
    """What in a page could run or load something, as a browser parses it: inline scripts,
    event handler attributes, `javascript:` links, and sources on another origin."""
    parser = _Tags()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            found.append(f"<script> {attrs}")
        found += [f"<{tag} {name}>" for name in attrs if name.startswith("on")]
        for name in ("href", "src", "action"):
            value = (attrs.get(name) or "").strip().lower()
            if value.startswith(("javascript:", "//", "http:", "https:")) and not (
                tag == "a" and value.startswith(("http:", "https:"))
            ):
                found.append(f"<{tag} {name}={value}>")
    return found


def alert_text(html: str) -> str:
    """The text of the page's error block (empty when there is none)."""
    found = re.search(r'<div class="errors" role="alert">(.*?)</div>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    """The API's Authorization header with the browser's session token."""
    return {"Authorization": f"Bearer {client.cookies['diarist_session']}"}


async def browser_user_id(client: httpx.AsyncClient) -> uuid.UUID:
    """The signed-in browser's user id, as the API reports it."""
    me = await client.get("/api/v1/me", headers=bearer(client))
    assert me.status_code == 200, me.text
    return uuid.UUID(me.json()["id"])
