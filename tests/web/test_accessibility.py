"""Accessibility checks that run offline, on every page as served: each form field has a
label, each page one h1 and headings that do not skip a level, a language, images with
text alternatives, buttons and links with names; and the palette's contrast (WCAG 2.x, AA:
4.5:1 for text) in the light and the dark scheme."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from importlib import resources

import httpx
import pytest

from tests.web.pages import signed_up_in_browser, submit, written


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.fields: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.wrapped: set[int] = set()
        self.headings: list[int] = []
        self.images: list[dict[str, str | None]] = []
        self.named: list[tuple[str, str]] = []  # (tag, its text or aria-label)
        self.lang: str | None = None
        self._text: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "label" and a.get("for"):
            self.label_for.add(str(a["for"]))
        if tag in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit"}:
            if any(t == "label" for t, _ in self.stack):
                a["_wrapped"] = "1"
            self.fields.append(a)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "img":
            self.images.append(a)
        if tag in {"a", "button"}:
            self._text.append([str(a.get("aria-label") or "")])
        if tag not in {"input", "img", "br", "meta", "link", "hr", "option"}:
            self.stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"a", "button"} and self._text:
            self.named.append((tag, "".join(self._text.pop()).strip()))
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for text in self._text:
            text.append(data)


def check(html: str) -> list[str]:
    """What a page gets wrong, in words."""
    page = _Page()
    page.feed(html)
    problems = []
    if not page.lang:
        problems.append("no lang on <html>")
    for field in page.fields:
        labelled = (
            field.get("_wrapped") or field.get("aria-label") or (field.get("id") in page.label_for)
        )
        if not labelled:
            problems.append(f"a field without a label: {field}")
    if page.headings.count(1) != 1:
        problems.append(f"{page.headings.count(1)} h1 headings")
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"h{before} followed by h{after}")
    problems += [f"an image without alt: {img}" for img in page.images if img.get("alt") is None]
    problems += [f"a {tag} without a name" for tag, name in page.named if not name]
    return problems


async def test_every_page_passes_the_checks(client: httpx.AsyncClient) -> None:
    pages = ["/login", "/register", "/login/code", "/password-reset", "/offline"]
    for path in pages:
        assert check((await client.get(path)).text) == [], path
    await signed_up_in_browser(client)
    entry = await written(
        client, title="Checked", text="Some **text**.\n\n![a photo](/static/icon.svg)", tags="a11y"
    )
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT09:00")
    reminder = {"title": "Checked", "remind_at": tomorrow, "repeat": "daily"}
    assert (await submit(client, "/reminders", "/reminders", reminder)).status_code == 303
    for path in (
        "/",
        "/write",
        "/search",
        "/search?q=text",
        "/insights",
        "/settings",
        "/reminders",
        "/notifications",
        entry,
        f"{entry}/edit",
    ):
        assert check((await client.get(path)).text) == [], path


def test_the_checks_find_what_they_look_for() -> None:
    bad = (
        '<html><body><h2>x</h2><h4>y</h4><input id="q"><img src="/a.png"><a href="/"></a>'
        "</body></html>"
    )
    found = check(bad)
    assert any("lang" in p for p in found)
    assert any("label" in p for p in found)
    assert any("0 h1" in p for p in found)
    assert any("h2 followed by h4" in p for p in found)
    assert any("alt" in p for p in found)
    assert any("a a without a name" in p for p in found)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _schemes() -> dict[str, dict[str, str]]:
    css = resources.files("diarist.web").joinpath("static/app.css").read_text("utf-8")
    blocks = re.findall(r":root\s*\{([^}]*)\}", css)
    return {
        scheme: dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))
        for scheme, block in zip(("light", "dark"), blocks, strict=True)
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(
    ("text", "background"),
    [("fg", "bg"), ("fg", "card"), ("muted", "bg"), ("muted", "card"), ("accent", "bg"),
     ("accent", "card"), ("accent-fg", "accent"), ("danger", "bg"), ("danger", "card"),
     ("fg", "mark")],
)  # fmt: skip
def test_the_palette_is_readable(scheme: str, text: str, background: str) -> None:
    colours = _schemes()[scheme]
    assert contrast(colours[text], colours[background]) >= 4.5, (scheme, text, background)
