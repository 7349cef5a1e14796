"""The web app in a real browser: Debian's Chromium driven by Playwright (`executable_path`,
never Playwright's own browser download). Skipped, and said so, where Chromium is not
installed (`apt-get install chromium`; .ci/run installs it).

The flows: sign up, write an entry with a tag, see it in the timeline, find it by keyword
and by meaning, see its analysis once the worker has been by, draw the insights chart, edit
it in two tabs (the conflict page), sign out. Every page is checked for requests to another
origin, and an XSS payload in every field must fire no dialog. Screenshots of the main pages
at 390 and 1280 px are written to $DIARIST_SCREENSHOTS (default var/screenshots)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from diarist.accounts.service import AccountsContext
from diarist.app import create_app
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.insights import statistics
from tests.conftest import make_settings
from tests.factories.accounts import PASSWORD
from tests.factories.journal import analyze_entries
from tests.fixtures.http_server import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
expect = playwright_api.expect
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium): browser tests skipped",
)
SCREENSHOTS = Path(os.environ.get("DIARIST_SCREENSHOTS", "var/screenshots"))
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
# As the machine notes say: without these, Chromium reaches for Google's hosts at start-up.
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
async def served(
    fresh_db: DatabaseUrls, tmp_path: Path, accounts_context: AccountsContext, embedder_url: str
) -> AsyncIterator[tuple[str, Database]]:
    """diarist on a real port over a database of its own (the browser's requests overlap)."""
    settings = make_settings(fresh_db, tmp_path)
    settings.analysis = settings.analysis.model_copy(update={"embedder_url": embedder_url})
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(4, 0), application_name="t")
    )
    app = create_app(settings, database=database)
    app.state.accounts = accounts_context
    try:
        async with serving(app) as port:
            yield f"http://127.0.0.1:{port}", database
    finally:
        await database.dispose()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


class Watch:
    """A page's requests to other origins and the dialogs that opened (none is allowed)."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.elsewhere: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []

    def attach(self, page: object) -> None:
        page.on("request", self._request)  # type: ignore[attr-defined]
        page.on("dialog", self._dialog)  # type: ignore[attr-defined]
        page.on("console", self._console)  # type: ignore[attr-defined]

    def _console(self, message: object) -> None:
        # The pages have no inline script: anything the policy had to block was injected.
        if "Content Security Policy" in message.text:  # type: ignore[attr-defined]
            self.blocked.append(message.text)  # type: ignore[attr-defined]

    def _request(self, request: object) -> None:
        url = request.url  # type: ignore[attr-defined]
        parts = urlsplit(url)
        if parts.scheme in {"http", "https"} and f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.elsewhere.append(url)

    async def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        await dialog.dismiss()  # type: ignore[attr-defined]


async def _shoot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a test, once per shot)
    for width in (390, 1280):
        await page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)  # type: ignore[attr-defined]


async def test_a_journal_in_the_browser(served: tuple[str, Database], browser: object) -> None:
    origin, database = served
    context = await browser.new_context(base_url=origin)  # type: ignore[attr-defined]
    page = await context.new_page()
    watch = Watch(origin)
    watch.attach(page)

    await page.goto("/")
    assert page.url.startswith(f"{origin}/login")
    await page.get_by_role("link", name="Create an account").click()
    await page.get_by_label("Name").fill("Ada")
    await page.get_by_label("Email").fill("browser@example.com")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_url(f"{origin}/")
    assert await page.get_by_text("Nothing written yet").is_visible()

    await page.keyboard.press("n")  # the shortcut
    await page.wait_for_url(f"{origin}/write")
    await page.get_by_label("Title").fill("By the river")
    await page.get_by_label("Entry").fill(
        "A long **walk** by the river with Sam. I felt calm and happy."
    )
    # The live preview, rendered by the server; the draft survives a reload.
    await page.locator("#preview strong").wait_for()
    assert await page.locator("#preview strong").inner_text() == "walk"
    await page.reload()
    assert await page.get_by_text("A draft you had not saved was restored.").is_visible()
    assert "Sam" in await page.get_by_label("Entry").input_value()
    assert await page.get_by_label("Title").input_value() == "By the river"
    await page.get_by_label("Tags").fill("walks")
    await page.get_by_label("Mood").fill("8")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(f"{origin}/entries/*")
    entry_url = page.url
    assert await page.locator(".text strong").inner_text() == "walk"
    await _shoot(page, "entry")

    await page.goto("/write")
    assert await page.get_by_text("was restored").count() == 0, "a saved draft is gone"
    await page.goto("/")
    assert await page.get_by_role("link", name="By the river").is_visible()
    await _shoot(page, "timeline")

    # The worker's analysis, run as it would be: the entry page shows it, and the entry can
    # be found by its meaning.
    cookies = await context.cookies()
    token = next(c["value"] for c in cookies if c["name"] == "diarist_session")
    me = await context.request.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.ok
    user_id = uuid.UUID((await me.json())["id"])
    await analyze_entries(database, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        await statistics.rebuild_statistics(session, user_id)
    await page.goto(entry_url)
    assert await page.get_by_text("Sentiment: positive").is_visible()

    for mode, query in (("keyword", "river"), ("semantic", "a peaceful stroll near water")):
        await page.goto("/search")
        await page.get_by_label("Search my journal").fill(query)
        await page.get_by_label("How").select_option(mode)
        await page.get_by_role("button", name="Search").click()
        assert await page.get_by_role("link", name="By the river").is_visible(), mode
    await _shoot(page, "search")

    await page.goto("/insights?granularity=day")
    assert await page.locator("svg.chart").count() == 4
    assert await page.locator("svg.chart polyline").count() == 2, "mood and sentiment"
    await _shoot(page, "insights")
    # Infinite scroll: the timeline's next pages come as its end comes into view.
    for n in range(24):
        body = {"raw_data": {"text": f"Scroll {n}."}, "entry_date": "2025-01-01T09:00:00Z"}
        made = await context.request.post(
            "/api/v1/entries", data=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert made.ok
    await page.goto("/")
    assert await page.locator("ol.entries > li").count() == 20
    total = 24 + 1  # and "By the river"
    for _ in range(10):
        await page.mouse.wheel(0, 20000)
        await page.wait_for_timeout(300)
        if await page.locator("ol.entries > li").count() == total:
            break
    assert await page.locator("ol.entries > li").count() == total
    assert await page.locator('a[rel="next"]').count() == 0

    await page.goto("/calendar")
    assert await page.locator("svg.heat rect.level-1").count() == 1
    await _shoot(page, "calendar")

    # Two tabs edit the same version: the second is shown both and keeps its words.
    other = await context.new_page()
    watch.attach(other)
    await page.goto(f"{entry_url}/edit")
    await other.goto(f"{entry_url}/edit")
    await _shoot(page, "editor")
    await page.get_by_label("Entry").fill("Saved first, in tab one.")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(entry_url)
    await other.get_by_label("Entry").fill("Written later, in tab two.")
    await other.get_by_role("button", name="Save").click()
    assert await other.get_by_text("This entry was changed elsewhere").is_visible()
    assert await other.get_by_text("Saved first, in tab one.").is_visible()
    await other.get_by_role("button", name="Save mine").click()
    await other.wait_for_url(entry_url)
    assert await other.get_by_text("Written later, in tab two.").is_visible()

    # Everything a user types is text, wherever it is shown.
    await page.goto("/write")
    await page.get_by_label("Title").fill(XSS)
    await page.get_by_label("Entry").fill(f"{XSS}\n\n[x](javascript:alert(3))")
    await page.get_by_label("Tags").fill("x-safe")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(f"{origin}/entries/*")
    for path in ("/", page.url, f"{page.url}/edit", "/search?q=alert&mode=keyword"):
        await page.goto(path)
    # Offline: an entry written on the writing page waits in the browser, and is sent once
    # (its idempotency key) when the connection returns.
    await page.goto("/write")
    assert await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await context.set_offline(True)
    await page.get_by_label("Title").fill("Written offline")
    await page.get_by_label("Entry").fill("On the train, no signal.")
    await page.get_by_role("button", name="Save").click()
    assert await page.get_by_text("Kept in this browser").is_visible()
    # A page opened offline is the service worker's offline page, whose form keeps too.
    await page.goto("/insights")
    assert await page.get_by_role("heading", name="You are offline").is_visible()
    await page.get_by_label("Entry").fill("Also offline, from the offline page.")
    await page.get_by_role("button", name="Keep until online").click()
    await context.set_offline(False)
    # Back online, the next page opened sends the outbox (at once, or on its next look).
    for _ in range(20):
        await page.goto("/")
        if await page.get_by_text("Also offline, from the offline page.").count():
            break
        await page.wait_for_timeout(500)
    await page.goto("/")
    assert await page.get_by_role("link", name="Written offline").count() == 1
    assert await page.get_by_text("Also offline, from the offline page.").count() == 1
    outbox = "Object.keys(localStorage).filter((k) => k.startsWith('diarist:outbox:'))"
    waiting = await page.evaluate(
        f"{outbox}.map((k) => JSON.parse(localStorage.getItem(k)).length)"
    )
    assert waiting == [0], "the outbox is empty"
    await _shoot(page, "timeline-after-offline")

    await page.goto("/")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{origin}/login")
    kept = "Object.keys(localStorage).filter((key) => key.startsWith('diarist:'))"
    assert await page.evaluate(kept) == [], "signing out leaves no drafts on the device"
    assert watch.dialogs == []
    assert watch.blocked == [], "nothing injected for the policy to block"
    assert watch.elsewhere == []
    await context.close()
