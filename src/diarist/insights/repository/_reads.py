"""Reads of the stored statistics, for the API and stored insights. Every range is inclusive,
on local days; None is open."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession


def _where(alias: str = "") -> str:
    """The user and an inclusive range of local days (None is open)."""
    a = f"{alias}." if alias else ""
    return (
        f"{a}user_id = :user_id AND (CAST(:start AS date) IS NULL OR {a}day >= :start) "
        f"AND (CAST(:end AS date) IS NULL OR {a}day <= :end)"
    )


_RANGE = _where()
_MOMENT_SUMS = (
    "sum(entries) AS entries, sum(mood_n) AS mood_n, sum(mood_sum) AS mood_sum, "
    "sum(mood_sumsq) AS mood_sumsq, sum(sentiment_n) AS sentiment_n, "
    "sum(sentiment_sum) AS sentiment_sum, sum(sentiment_sumsq) AS sentiment_sumsq"
)


def _range(user_id: uuid.UUID, start: date | None, end: date | None) -> dict[str, Any]:
    return {"user_id": user_id, "start": start, "end": end}


async def sum_moments_by_period(
    session: AsyncSession, user_id: uuid.UUID, unit: str, start: date | None, end: date | None
) -> list[Row[Any]]:
    """Entries and mood/sentiment sums per day, ISO week or month (`unit`)."""
    rows = await session.execute(
        text(
            f"SELECT date_trunc(:unit, day)::date AS period, {_MOMENT_SUMS} "  # noqa: S608
            f"FROM stats_days WHERE {_RANGE} GROUP BY 1 ORDER BY 1"
        ),
        {**_range(user_id, start, end), "unit": unit},
    )
    return list(rows)


async def count_entries_by_weekday(
    session: AsyncSession, user_id: uuid.UUID, start: date | None, end: date | None
) -> dict[int, int]:
    """Entries per ISO weekday (1 = Monday) that has any."""
    rows = await session.execute(
        text(
            "SELECT extract(isodow FROM day)::int, sum(entries) "  # noqa: S608
            f"FROM stats_days WHERE {_RANGE} GROUP BY 1"
        ),
        _range(user_id, start, end),
    )
    return {int(row[0]): int(row[1]) for row in rows}


async def sum_moments(
    session: AsyncSession, user_id: uuid.UUID, start: date | None, end: date | None
) -> Row[Any]:
    """Entries, words, days and emotion counts, and mood/sentiment sums, over the range."""
    row = await session.execute(
        text(
            f"SELECT {_MOMENT_SUMS}, sum(words) AS words, count(*) AS days, "  # noqa: S608
            f"sum(emotions_n) AS emotions_n FROM stats_days WHERE {_RANGE}"
        ),
        _range(user_id, start, end),
    )
    return row.one()


_DAY_MEANS = """
SELECT {group} count(mood) AS mood_n, coalesce(sum(mood), 0) AS mood_sum,
       coalesce(sum(mood * mood), 0) AS mood_sumsq, count(sentiment) AS sentiment_n,
       coalesce(sum(sentiment), 0) AS sentiment_sum,
       coalesce(sum(sentiment * sentiment), 0) AS sentiment_sumsq
FROM (
    SELECT day, mood_sum / nullif(mood_n, 0) AS mood,
           sentiment_sum / nullif(sentiment_n, 0) AS sentiment
    FROM stats_days WHERE {where}
) d
"""


async def sum_day_means_by_weekday(
    session: AsyncSession, user_id: uuid.UUID, start: date | None, end: date | None
) -> list[Row[Any]]:
    """Per ISO weekday, n/Σ/Σ² of the days' mean mood and mean sentiment: the entries of one
    day are not independent, so weekday effects are tested on days."""
    group = "extract(isodow FROM day)::int AS weekday,"
    rows = await session.execute(
        text(_DAY_MEANS.format(group=group, where=_RANGE) + " GROUP BY 1 ORDER BY 1"),
        _range(user_id, start, end),
    )
    return list(rows)


async def sum_day_means(
    session: AsyncSession, user_id: uuid.UUID, start: date | None, end: date | None
) -> Row[Any]:
    """n/Σ/Σ² of the days' mean mood and mean sentiment over the range (for trends)."""
    rows = await session.execute(
        text(_DAY_MEANS.format(group="", where=_RANGE)), _range(user_id, start, end)
    )
    return rows.one()


async def list_active_days(session: AsyncSession, user_id: uuid.UUID) -> list[date]:
    """Every local day with at least one live entry, oldest first."""
    rows = await session.scalars(
        text("SELECT day FROM stats_days WHERE user_id = :user_id ORDER BY day"),
        {"user_id": user_id},
    )
    return list(rows)


async def count_entries_by_hour(
    session: AsyncSession, user_id: uuid.UUID, start: date | None, end: date | None
) -> list[int]:
    """Entries per local hour of the day (0-23) over the range."""
    rows = await session.execute(
        text(
            "SELECT h, coalesce(sum(d.hours[h + 1]), 0) FROM generate_series(0, 23) AS h "  # noqa: S608
            f"LEFT JOIN stats_days d ON {_where('d')} "
            "GROUP BY h ORDER BY h"
        ),
        _range(user_id, start, end),
    )
    return [int(row[1]) for row in rows]


async def sum_emotions(
    session: AsyncSession, user_id: uuid.UUID, start: date | None, end: date | None
) -> tuple[dict[str, float], dict[str, int]]:
    """Sums of each emotion's scores, and how often each dominated, over the range."""
    sums = await session.execute(
        text(
            "SELECT kv.key, sum(kv.value::float8) FROM stats_days, "  # noqa: S608
            f"jsonb_each_text(emotion_sums) AS kv WHERE {_RANGE} GROUP BY 1"
        ),
        _range(user_id, start, end),
    )
    dominant = await session.execute(
        text(
            "SELECT kv.key, sum(kv.value::int) FROM stats_days, "  # noqa: S608
            f"jsonb_each_text(dominant_counts) AS kv WHERE {_RANGE} GROUP BY 1"
        ),
        _range(user_id, start, end),
    )
    return (
        {row[0]: float(row[1]) for row in sums},
        {row[0]: int(row[1]) for row in dominant},
    )


_SUBJECT_NAME = """
    FROM stats_day_subjects s
    LEFT JOIN tags t ON s.kind = 'tag' AND t.id = s.subject_id AND t.user_id = s.user_id
    LEFT JOIN topics p ON s.kind = 'topic' AND p.id = s.subject_id AND p.user_id = s.user_id
                       AND NOT p.hidden
"""


async def sum_subject_moments(
    session: AsyncSession,
    user_id: uuid.UUID,
    kind: str | None,
    start: date | None,
    end: date | None,
) -> list[Row[Any]]:
    """Per live tag/topic (hidden topics left out): entries and mood/sentiment sums."""
    rows = await session.execute(
        text(
            f"SELECT s.kind, s.subject_id, coalesce(t.name, p.name) AS name, {_MOMENT_SUMS} "
            f"{_SUBJECT_NAME} WHERE {_where('s')} "
            "AND (CAST(:kind AS text) IS NULL OR s.kind = :kind) "
            "AND coalesce(t.name, p.name) IS NOT NULL "
            "GROUP BY s.kind, s.subject_id, t.name, p.name ORDER BY entries DESC, name"
        ),
        {**_range(user_id, start, end), "kind": kind},
    )
    return list(rows)


async def count_subject_usage_by_month(
    session: AsyncSession,
    user_id: uuid.UUID,
    kind: str | None,
    start: date | None,
    end: date | None,
) -> list[Row[Any]]:
    """Entries per live tag/topic and month."""
    rows = await session.execute(
        text(
            "SELECT s.kind, s.subject_id, coalesce(t.name, p.name) AS name, "
            "date_trunc('month', s.day)::date AS month, sum(s.entries) AS entries "
            f"{_SUBJECT_NAME} WHERE {_where('s')} "
            "AND (CAST(:kind AS text) IS NULL OR s.kind = :kind) "
            "AND coalesce(t.name, p.name) IS NOT NULL "
            "GROUP BY 1, 2, 3, 4 ORDER BY 3, 1, 2, 4"
        ),
        {**_range(user_id, start, end), "kind": kind},
    )
    return list(rows)
