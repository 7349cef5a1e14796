"""Pages from Jinja2 templates (autoescaped: anything a user wrote is text unless it went
through `markdown` or `snippet`, which sanitise), and the Markdown of entries as HTML.

Markdown is rendered by markdown-it-py with raw HTML off (a `<script>` in an entry is shown
as text), then cleaned by nh3 (Ammonia) to a list of tags and attributes: links keep only
http(s), mailto and relative targets and get `rel="noopener noreferrer nofollow"`, images
only this site's or `data:` sources (others lose their source: no page makes a request to
another origin, and the Content Security Policy would block it anyway)."""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from diarist.web.security import PAGE_HEADERS

_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
}


@functools.cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _same_origin_images(element: str, attribute: str, value: str) -> str | None:
    """An image is loaded from this site or the page itself only: a page never makes a
    request elsewhere (which would tell another server that the entry was read)."""
    if element == "img" and attribute == "src":
        local = value.startswith("/") and not value.startswith("//")
        return value if local or value.startswith("data:image/") else None
    return value


def markdown(text: str) -> Markup:
    """An entry's Markdown as safe HTML."""
    html = _markdown().render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "data"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_same_origin_images,
    )
    return Markup(clean)  # noqa: S704 (sanitised by nh3 just above)


def snippet(headline: str) -> Markup:
    """A search snippet: PostgreSQL's `ts_headline`, the entry's own text with `<mark>` and
    `</mark>` put around the matches. Everything is escaped but those marks (text that looks
    like a tag, or `&lt;`, is shown as written)."""
    shown, marked = [], False
    for part in re.split(r"(</?mark>)", headline):
        if part == "<mark>" and not marked:
            shown.append(part)
            marked = True
        elif part == "</mark>" and marked:
            shown.append(part)
            marked = False
        else:
            shown.append(str(escape(part)))
    if marked:
        shown.append("</mark>")
    return Markup("".join(shown))  # noqa: S704 (escaped above, but for the marks)


def local_time(moment: datetime, zone: str, pattern: str = "%a %d %b %Y, %H:%M") -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime(pattern)


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("diarist.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["markdown"] = markdown
    env.filters["snippet"] = snippet
    env.filters["local_time"] = local_time
    return env


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """`template` rendered with `context` (and the request), with the page headers."""
    html = environment().get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
