"""The API's documentation: the OpenAPI document completed with what the app answers outside
any route, and the interactive pages (`/docs`, `/redoc`) served from the app itself.

The pages' JavaScript, CSS and icon ship in the `fastapi-offline` wheel and are served under
`/docs/assets`: a private journal's docs make no third-party request and work offline.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from diarist.kit.responses import openapi_components, problem_response

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
_OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
# Swagger UI would send the document to validator.swagger.io for its badge.
_SWAGGER_PARAMETERS = {"validatorUrl": None}


def _root(request: Request) -> str:
    """The app's mount point, so that the pages' links work behind a path prefix."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


def install_api_docs(app: FastAPI) -> None:
    """Complete the OpenAPI document and serve `/docs` and `/redoc` with local assets (the app
    is built with FastAPI's own pages, which load from a CDN, turned off)."""
    _complete_openapi(app)
    app.mount(ASSETS_URL, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs")
    openapi_url = app.openapi_url or "/openapi.json"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=root + _OAUTH2_REDIRECT_URL,
            swagger_ui_parameters=_SWAGGER_PARAMETERS,
        )

    async def swagger_ui_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    # Plain routes, as FastAPI adds its own pages: they answer GET and HEAD.
    app.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
    app.add_route(_OAUTH2_REDIRECT_URL, swagger_ui_redirect, include_in_schema=False)
    app.add_route(REDOC_URL, redoc, include_in_schema=False)


def _complete_openapi(app: FastAPI) -> None:
    """Add the problem+json schema, and the errors a request may get before a route runs:
    414 and 431 (over the head limits) on any, 400 (not JSON) and 413 (over the body limit) on
    any with a body."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                openapi_components()
            )
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for status in ("414", "431"):
                        operation["responses"].setdefault(status, problem_response())
                    if "requestBody" in operation:
                        for status in ("400", "413"):
                            operation["responses"].setdefault(status, problem_response())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
