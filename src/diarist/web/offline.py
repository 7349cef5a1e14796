"""Installable and usable offline: the web app manifest, the service worker (served from the
root so that its scope is the whole site) and the page it shows when the network is gone.

The worker keeps only the shell: the stylesheet, the script, the icon and the offline page,
in a cache named after diarist's version (a new version replaces it). Journal pages are
never cached (they are `no-store`: someone's journal does not belong in a cache). Entries
written offline wait in the browser (app.js, the outbox) and are sent when the connection
returns, each with its idempotency key, so a retry never writes one twice."""

from __future__ import annotations

import json
from importlib import resources

from fastapi import Request, Response

from diarist import __version__
from diarist.web.render import page
from diarist.web.viewer import pages_router

offline_pages = pages_router()

MANIFEST = {
    "name": "diarist",
    "short_name": "diarist",
    "description": "Your journal: write, find and reflect.",
    "start_url": "/",
    "scope": "/",
    "display": "standalone",
    "background_color": "#fbfaf7",
    "theme_color": "#2f5d8a",
    "icons": [{"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml"}],
}


@offline_pages.get("/manifest.webmanifest")
async def manifest() -> Response:
    return Response(json.dumps(MANIFEST), media_type="application/manifest+json")


@offline_pages.get("/sw.js")
async def service_worker() -> Response:
    script = resources.files("diarist.web").joinpath("static/sw.js").read_text("utf-8")
    body = script.replace("__VERSION__", __version__)
    # Checked for a new version on every visit; it replaces the shell's cache when it changes.
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type="text/javascript", headers=headers)


@offline_pages.get("/offline")
async def offline(request: Request) -> Response:
    """What the service worker shows when a page cannot be reached: the outbox's form."""
    response = page(request, "offline.html", {"me": None, "errors": []})
    # Cached by the service worker itself (its one page); no user data on it.
    response.headers["Cache-Control"] = "no-cache"
    return response
