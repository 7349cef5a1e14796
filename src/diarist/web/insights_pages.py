"""The insights page: mood and sentiment over time, and when I write, drawn as SVG on the
server (charts.py) from the statistics the API serves."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from diarist.db.session import DbSession
from diarist.insights import statistics, stored_insights
from diarist.insights.statistics import Granularity
from diarist.memories import service as memories_service
from diarist.web.charts import bar_chart, line_chart
from diarist.web.render import page
from diarist.web.viewer import SignedIn, checked_form, pages_router

insights_pages = pages_router()
# How far back each granularity looks (a chart of every day of ten years says nothing).
WINDOWS = {"day": timedelta(days=60), "week": timedelta(weeks=26), "month": timedelta(days=730)}
ON_THIS_DAY = 5
# Tags and topics shown with their mood effect: those of at least this many entries, the
# largest effects first (the p-value says how far to trust a small sample).
MIN_ENTRIES, EFFECTS = 3, 10
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@insights_pages.get("/insights")
async def insights(
    request: Request, session: DbSession, me: SignedIn, granularity: str = "week"
) -> Response:
    granularity = granularity if granularity in WINDOWS else "week"
    user_id = me.principal.user_id
    today = await statistics.user_today(session, user_id)
    start = today - WINDOWS[granularity]
    per = cast(Granularity, granularity)  # one of WINDOWS' keys, checked above
    points = await statistics.mood_over_time(session, user_id, per, start, today)
    writing = await statistics.writing_statistics(session, user_id, None, None)
    labels = [point["period"].isoformat() for point in points]
    charts: dict[str, Any] = {
        "mood": line_chart(
            labels, [p["mood"]["avg"] for p in points], low=1, high=10,
            title=f"Average mood (1-10) per {granularity} since {start.isoformat()}",
        ),
        "sentiment": line_chart(
            labels, [p["sentiment"]["avg"] for p in points], low=-1, high=1,
            title=f"Average sentiment (-1 to 1) per {granularity} since {start.isoformat()}",
        ),
        "weekdays": bar_chart(WEEKDAYS, writing["weekdays"], title="Entries by weekday"),
        "hours": bar_chart(
            [f"{hour:02d}" if hour % 3 == 0 else "" for hour in range(24)],
            writing["hours"],
            title="Entries by hour of the day",
        ),
    }  # fmt: skip
    subjects = await statistics.subject_correlations(
        session, user_id, None, MIN_ENTRIES, None, None
    )
    effects = sorted(
        (s for s in subjects if s["mood"]["difference"] is not None),
        key=lambda s: abs(s["mood"]["difference"]),
        reverse=True,
    )[:EFFECTS]
    found = await stored_insights.list_insights(session, user_id, include_dismissed=False)
    _day, earlier = await memories_service.on_this_day(session, user_id, None, ON_THIS_DAY)
    context = {
        "me": me, "csrf": me.csrf, "granularity": granularity, "granularities": list(WINDOWS),
        "points": points, "writing": writing, "charts": charts, "start": start,
        "insights": found, "on_this_day": earlier, "effects": effects,
    }  # fmt: skip
    return page(request, "insights.html", context)


@insights_pages.post("/insights/{insight_id}/dismiss")
async def dismiss(
    request: Request, session: DbSession, me: SignedIn, insight_id: uuid.UUID
) -> Response:
    """Hide an insight for good (regenerating never brings it back)."""
    await checked_form(request, me.csrf)
    await stored_insights.dismiss_insight(session, me.principal.user_id, insight_id)
    return RedirectResponse("/insights", status_code=303)
