"""The calendar: a month of writing days linking to their entries (the writer's local day),
and the last year as a heat map."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import httpx

from diarist.db.engine import Database
from diarist.insights import statistics
from tests.web.pages import active_parts, browser_user_id, signed_up_in_browser, submit, written


async def test_the_month_and_the_year_of_writing(
    client: httpx.AsyncClient, database: Database
) -> None:
    await signed_up_in_browser(client)
    fields = {"name": "Ada", "timezone": "Pacific/Auckland", "language": "en", "analysis": "1"}
    assert (await submit(client, "/settings", "/settings/profile", fields)).status_code == 303
    day = date.today() - timedelta(days=3)
    await written(client, text="Morning.", entry_date=f"{day}T08:00")  # local time, Auckland
    await written(client, text="Evening.", entry_date=f"{day}T23:30")
    user_id = await browser_user_id(client)
    async with database.unit_of_work(user_id=user_id) as session:
        await statistics.rebuild_statistics(session, user_id)
    page = await client.get("/calendar", params={"month": day.strftime("%Y-%m")})
    assert page.status_code == 200
    assert active_parts(page.text) == []
    link = re.search(rf'<a href="([^"]+)" aria-label="{day.isoformat()}: 2 entries">', page.text)
    assert link, "the day links to its two entries"
    assert f"{day.isoformat()}: 2 entries" in page.text.split('id="year-h"')[1], (
        "and on the heat map"
    )
    timeline = await client.get(unescape(link.group(1)))
    assert "Morning." in timeline.text
    assert "Evening." in timeline.text, "the local day, though 23:30 Auckland is another UTC day"
    for bad in ("", "2026-13", "junk", "0001-01"):
        assert (await client.get("/calendar", params={"month": bad})).status_code == 200, bad
