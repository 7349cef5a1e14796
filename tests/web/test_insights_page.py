"""The insights page: figures and SVG charts drawn on the server from the same statistics as
the API, readable without JavaScript, with the numbers in a table."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx

from diarist.db.engine import Database
from diarist.insights import statistics
from diarist.insights import tasks as insights_tasks
from tests.web.pages import (
    active_parts,
    browser_user_id,
    hidden_fields,
    signed_up_in_browser,
    written,
)


async def test_the_insights_page_draws_mood_and_writing(
    client: httpx.AsyncClient, database: Database
) -> None:
    await signed_up_in_browser(client)
    empty = await client.get("/insights")
    assert empty.status_code == 200
    assert "Nothing since" in empty.text
    first, second = (date.today() - timedelta(days=n) for n in (4, 3))  # in every window
    await written(client, text="A good lake day.", mood="8", entry_date=f"{first}T10:00")
    await written(client, text="A hard, grey day.", mood="3", entry_date=f"{second}T11:00")
    user_id = await browser_user_id(client)
    async with database.unit_of_work(user_id=user_id) as session:
        await statistics.rebuild_statistics(session, user_id)
    for granularity in ("day", "week", "month", "fortnight"):
        page = await client.get("/insights", params={"granularity": granularity})
        assert page.status_code == 200, granularity
        assert page.text.count("<svg") == 4
        assert "<polyline" in page.text
        assert active_parts(page.text) == []
    day = (await client.get("/insights", params={"granularity": "day"})).text
    assert re.search(rf"<td>{first}</td><td>1</td>\s*<td>8.0</td>", day)
    assert re.search(rf"<td>{second}</td><td>1</td>\s*<td>3.0</td>", day)
    assert "<dd>2</dd>" in day  # entries, and days written


async def test_what_stands_out_is_dismissed_and_on_this_day_is_shown(
    client: httpx.AsyncClient, database: Database
) -> None:
    await signed_up_in_browser(client)
    today = date.today()
    for days in range(7, 0, -1):  # a week in a row: a streak milestone
        await written(
            client, text=f"Day {days}.", entry_date=f"{today - timedelta(days=days)}T09:00"
        )
    year_ago = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) else today
    await written(client, title="A year ago", text="Then.", entry_date=f"{year_ago}T08:00")
    user_id = await browser_user_id(client)
    await insights_tasks.generate_for_user(database, user_id)
    page = await client.get("/insights")
    assert "days in a row" in page.text
    assert "A year ago" in page.text[page.text.index('id="otd-h"') :]
    dismiss = re.search(r'action="(/insights/[0-9a-f-]+/dismiss)"', page.text)
    assert dismiss
    assert (await client.post(dismiss.group(1), data={"csrf": "x"})).status_code == 403
    done = await client.post(dismiss.group(1), data=hidden_fields(page.text))
    assert done.status_code == 303
    assert "days in a row" not in (await client.get("/insights")).text


async def test_tags_with_their_mood_effect(client: httpx.AsyncClient, database: Database) -> None:
    await signed_up_in_browser(client)
    for n in range(3):
        await written(client, text=f"Walk {n}.", tags="walks", mood="8")
        await written(client, text=f"Office {n}.", mood="3")
    user_id = await browser_user_id(client)
    async with database.unit_of_work(user_id=user_id) as session:
        await statistics.rebuild_statistics(session, user_id)
    page = (await client.get("/insights")).text
    table = page[page.index('id="effects-h"') :].split("</table>")[0]
    row = (
        r"<td>walks <span[^>]*>tag</span></td><td>3</td>\s*"
        r"<td>8.0</td><td>3.0</td>\s*<td>\+5.0</td>"
    )
    assert re.search(row, table)
