"""The web app wired into the FastAPI app: its pages, its static files (from this package:
nothing from another origin) and the answers to a missing session or a forged form."""

from __future__ import annotations

import inspect

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from diarist.errors import DiaristError
from diarist.web.auth_pages import auth_pages
from diarist.web.calendar_pages import calendar_pages
from diarist.web.entry_extras import entry_extras
from diarist.web.insights_pages import insights_pages
from diarist.web.journal_pages import journal_pages
from diarist.web.offline import offline_pages
from diarist.web.reminders_pages import reminders_pages
from diarist.web.render import page
from diarist.web.revisions_pages import revisions_pages
from diarist.web.settings_pages import settings_pages
from diarist.web.tags_pages import tags_pages
from diarist.web.viewer import PAGES, BadForm, SignInRequired, sign_in_redirect


async def _sign_in(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return sign_in_redirect(exc.path)


async def _bad_form(request: Request, _exc: Exception) -> Response:
    errors = ["This form has expired or did not come from diarist. Go back, reload, try again."]
    return page(request, "error.html", {"me": None, "errors": errors}, 403)


def _html_for_pages(app: FastAPI) -> None:
    """A service error a page did not catch (an entry that is not there) answers as a page;
    everything else (the API) keeps its problem+json."""
    api_answer = app.exception_handlers[DiaristError]
    assert inspect.iscoroutinefunction(api_answer)

    async def answer(request: Request, exc: Exception) -> Response:
        route = request.scope.get("route")
        if PAGES not in getattr(route, "tags", ()):
            answered: Response = await api_answer(request, exc)
            return answered
        assert isinstance(exc, DiaristError)
        return page(request, "error.html", {"me": None, "errors": [exc.detail]}, exc.status)

    app.add_exception_handler(DiaristError, answer)


def install_web(app: FastAPI) -> None:
    app.include_router(auth_pages)
    app.include_router(journal_pages)
    app.include_router(entry_extras)
    app.include_router(revisions_pages)
    app.include_router(insights_pages)
    app.include_router(calendar_pages)
    app.include_router(settings_pages)
    app.include_router(tags_pages)
    app.include_router(reminders_pages)
    app.include_router(offline_pages)
    app.mount("/static", StaticFiles(packages=[("diarist.web", "static")]), name="static")
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(BadForm, _bad_form)
    _html_for_pages(app)
