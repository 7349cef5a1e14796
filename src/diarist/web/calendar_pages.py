"""The calendar: a month of writing days (each a link to its entries) and the last year as a
heat map, from the daily statistics the insights page uses."""

from __future__ import annotations

import calendar as months
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request, Response

from diarist.db.session import DbSession
from diarist.insights import statistics
from diarist.web.charts import heat_map
from diarist.web.render import page
from diarist.web.viewer import SignedIn, pages_router

calendar_pages = pages_router()


def _month(asked: str, today: date) -> date:
    """The first day of the month asked for (`YYYY-MM`), or of this month."""
    try:
        first = datetime.strptime(asked, "%Y-%m").date()
    except ValueError:
        return today.replace(day=1)
    return first if 1900 <= first.year <= 2100 else today.replace(day=1)


def day_link(day: date, zone: str) -> str:
    """The timeline of one local day (its midnight to the next, in the writer's zone)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return "/?" + urlencode({"from": start.isoformat(), "to": end.isoformat()})


@calendar_pages.get("/calendar")
async def calendar(request: Request, session: DbSession, me: SignedIn, month: str = "") -> Response:
    user_id = me.principal.user_id
    today = await statistics.user_today(session, user_id)
    first = _month(month, today)
    last = first.replace(day=months.monthrange(first.year, first.month)[1])
    start, end = min(first, today - timedelta(days=364)), max(last, today)
    rows = await statistics.mood_over_time(session, user_id, "day", start, end)
    counts: dict[date, int] = {row["period"]: row["entries"] for row in rows}
    links = {day: day_link(day, me.zone) for day, n in counts.items() if n}
    weeks = months.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    year_ago = today - timedelta(days=365)
    context: dict[str, Any] = {
        "me": me, "csrf": me.csrf, "first": first, "weeks": weeks, "counts": counts,
        "links": links, "today": today, "previous": previous, "following": following,
        "heat": heat_map(counts, today, links, title="Days written in the last year"),
        "written": sum(1 for d, n in counts.items() if n and year_ago < d <= today),
    }  # fmt: skip
    return page(request, "calendar.html", context)
