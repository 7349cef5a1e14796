"""The interactive API docs load nothing from outside the app: they work offline, and reading
them tells no third party that this journal exists."""

from __future__ import annotations

import re

import httpx
import pytest

# Where a page names another resource: attributes, Swagger UI's `url: '...'`, and the redirect
# page it builds from the window's origin.
_REFERENCE = re.compile(r"""(?:src|href|spec-url)="([^"]+)"|url: '([^']+)'|origin \+ '([^']+)'""")
_ABSOLUTE = re.compile(r"https?://", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_from_the_app(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert not _ABSOLUTE.search(response.text), "an absolute URL: a CDN or another site"
    references = [next(filter(None, found)) for found in _REFERENCE.findall(response.text)]
    assert "/openapi.json" in references
    assert any(ref.endswith(".js") for ref in references), references
    for reference in references:
        assert reference.startswith("/"), reference
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference


async def test_swagger_ui_sends_the_document_to_no_validator(client: httpx.AsyncClient) -> None:
    """Swagger UI's default posts the document to validator.swagger.io for a badge."""
    page = (await client.get("/docs")).text
    assert '"validatorUrl": null' in page


async def test_an_unknown_asset_is_a_problem_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/assets/nope.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
