"""Queries of the dirty-day log and of the per-day statistics it keeps: claim and clear marks,
recompute days from the source rows, what a recompute would store and what is stored, and the
cross-user listings of the periodic jobs (system role)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Date

# The first key of the per-user advisory lock that serialises recomputation of one user's days.
_LOCK_SPACE = 0x5EED

_LOCAL = "(e.entry_date AT TIME ZONE e.timezone)"
# Statistics cover the local days a Python date can hold: an entry written before the date
# bounds of the API (years 1900-2200) may lie on a day psycopg cannot load (0001-12-31 BC).
_FIRST_DAY, _LAST_DAY = date.min.isoformat(), date.max.isoformat()
_BASE = f"""
WITH base AS (
    SELECT e.id,
           {_LOCAL}::date AS day,
           extract(hour FROM {_LOCAL})::int AS hour,
           e.word_count,
           e.mood_rating::float8 AS mood,
           (s.processed_data ->> 'compound')::float8 AS sentiment,
           m.processed_data AS emotions
    FROM entries e
    LEFT JOIN processed_content s
           ON s.entry_id = e.id AND s.user_id = e.user_id AND s.task_type = 'sentiment'
    LEFT JOIN processed_content m
           ON m.entry_id = e.id AND m.user_id = e.user_id AND m.task_type = 'emotions'
    WHERE e.user_id = :user_id AND e.deleted_at IS NULL
      AND {_LOCAL}::date BETWEEN '{_FIRST_DAY}' AND '{_LAST_DAY}' {{day_filter}}
)
"""  # noqa: S608
# Entries of the given local days: any offset is within ±2 days of UTC, so the range on
# entry_date lets the timeline index narrow the scan before the exact local-day test.
_SOME_DAYS = f"AND {_LOCAL}::date = ANY(:days) AND e.entry_date >= :lo AND e.entry_date < :hi"

_DAY_COLUMNS = (
    "user_id, day, entries, words, mood_n, mood_sum, mood_sumsq, sentiment_n, sentiment_sum, "
    "sentiment_sumsq, hours, emotions_n, emotion_sums, dominant_counts"
)
_DAY_ROWS = """
, days AS (
    SELECT day, count(*) AS entries, sum(word_count) AS words,
           count(mood) AS mood_n, coalesce(sum(mood), 0) AS mood_sum,
           coalesce(sum(mood * mood), 0) AS mood_sumsq,
           count(sentiment) AS sentiment_n, coalesce(sum(sentiment), 0) AS sentiment_sum,
           coalesce(sum(sentiment * sentiment), 0) AS sentiment_sumsq,
           count(emotions) AS emotions_n
    FROM base GROUP BY day
), hours AS (
    SELECT d.day, array_agg(coalesce(c.n, 0)::int ORDER BY h.h) AS hours
    FROM days d CROSS JOIN generate_series(0, 23) AS h(h)
    LEFT JOIN (SELECT day, hour, count(*) AS n FROM base GROUP BY day, hour) c
           ON c.day = d.day AND c.hour = h.h
    GROUP BY d.day
), emotion_sums AS (
    SELECT day, jsonb_object_agg(emotion, total ORDER BY emotion) AS sums FROM (
        SELECT b.day, kv.key AS emotion, sum(kv.value::float8) AS total
        FROM base b, jsonb_each_text(b.emotions -> 'scores') AS kv
        GROUP BY b.day, kv.key
    ) t GROUP BY day
), dominant AS (
    SELECT day, jsonb_object_agg(emotion, n ORDER BY emotion) AS counts FROM (
        SELECT day, emotions ->> 'dominant' AS emotion, count(*) AS n FROM base
        WHERE emotions ->> 'dominant' IS NOT NULL GROUP BY day, emotions ->> 'dominant'
    ) t GROUP BY day
)
SELECT CAST(:user_id AS uuid) AS user_id, d.day, d.entries::int, d.words::bigint,
       d.mood_n::int, d.mood_sum, d.mood_sumsq, d.sentiment_n::int, d.sentiment_sum,
       d.sentiment_sumsq, h.hours, d.emotions_n::int,
       coalesce(es.sums, '{}'::jsonb) AS emotion_sums,
       coalesce(dm.counts, '{}'::jsonb) AS dominant_counts
FROM days d JOIN hours h USING (day)
LEFT JOIN emotion_sums es USING (day) LEFT JOIN dominant dm USING (day)
"""

_SUBJECT_COLUMNS = (
    "user_id, day, kind, subject_id, entries, mood_n, mood_sum, mood_sumsq, sentiment_n, "
    "sentiment_sum, sentiment_sumsq"
)
_SUBJECT_AGGREGATES = """
    count(*)::int, count(b.mood)::int, coalesce(sum(b.mood), 0),
    coalesce(sum(b.mood * b.mood), 0), count(b.sentiment)::int,
    coalesce(sum(b.sentiment), 0), coalesce(sum(b.sentiment * b.sentiment), 0)
"""
_SUBJECT_ROWS = f"""
SELECT CAST(:user_id AS uuid), b.day, 'tag', t.tag_id, {_SUBJECT_AGGREGATES}
FROM base b JOIN entry_tags t ON t.entry_id = b.id GROUP BY b.day, t.tag_id
UNION ALL
SELECT CAST(:user_id AS uuid), b.day, 'topic', p.topic_id, {_SUBJECT_AGGREGATES}
FROM base b JOIN entry_topics p ON p.entry_id = b.id GROUP BY b.day, p.topic_id
"""  # noqa: S608


def _day_params(user_id: uuid.UUID, days: Sequence[date] | None) -> tuple[str, dict[str, Any]]:
    if days is None:
        return "", {"user_id": user_id}
    return _SOME_DAYS, {
        "user_id": user_id,
        "days": list(days),
        "lo": _utc_start(min(days), -2) or datetime.min.replace(tzinfo=UTC),
        "hi": _utc_start(max(days), 3) or datetime.max.replace(tzinfo=UTC),
    }


def _utc_start(day: date, shift: int) -> datetime | None:
    """Midnight UTC of `day` moved by `shift` days; None beyond the dates Python can hold."""
    try:
        return datetime.combine(day + timedelta(days=shift), time(), UTC)
    except OverflowError:
        return None


def _typed(statement: str) -> Any:
    clause = text(statement)
    if ":days" in statement:
        clause = clause.bindparams(bindparam("days", type_=ARRAY(Date())))
    return clause


async def lock_user_statistics(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Serialise recomputations of one user's statistics until the transaction ends (two
    drains of the same day would otherwise both insert it)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:user_id))"),
        {"space": _LOCK_SPACE, "user_id": str(user_id)},
    )


async def claim_dirty_days(session: AsyncSession, user_id: uuid.UUID, limit: int) -> list[date]:
    """Take up to `limit` entries of the user's dirty-day log (skipping those a writer still
    holds) and delete them; the distinct days they name. Marks made by transactions still
    open are invisible here and stay for the next drain."""
    rows = await session.execute(
        text(
            """
            WITH claimed AS (
                SELECT id FROM stats_dirty_days WHERE user_id = :user_id
                ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED
            )
            , deleted AS (
                DELETE FROM stats_dirty_days d USING claimed c WHERE d.id = c.id
                RETURNING d.day
            )
            -- A day no statistics can cover (see _FIRST_DAY) is consumed, not returned.
            SELECT DISTINCT day FROM deleted WHERE day BETWEEN :first AND :last
            """
        ),
        {"user_id": user_id, "limit": limit, "first": date.min, "last": date.max},
    )
    return sorted({row[0] for row in rows})


async def clear_dirty_days(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Forget every visible dirty mark of the user (before a full recompute)."""
    await session.execute(
        text("DELETE FROM stats_dirty_days WHERE user_id = :user_id"), {"user_id": user_id}
    )


async def recompute_days(
    session: AsyncSession, user_id: uuid.UUID, days: Sequence[date] | None
) -> None:
    """Replace the statistics of `days` (None: of every day) with what the source rows say."""
    day_filter, params = _day_params(user_id, days)
    scope = "" if days is None else " AND day = ANY(:days)"
    for table in ("stats_days", "stats_day_subjects"):
        await session.execute(
            _typed(f"DELETE FROM {table} WHERE user_id = :user_id{scope}"),  # noqa: S608
            params,
        )
    base = _BASE.format(day_filter=day_filter)
    await session.execute(
        _typed(f"INSERT INTO stats_days ({_DAY_COLUMNS}) {base} {_DAY_ROWS}"), params
    )
    await session.execute(
        _typed(f"INSERT INTO stats_day_subjects ({_SUBJECT_COLUMNS}) {base} {_SUBJECT_ROWS}"),
        params,
    )


async def compute_day_rows(session: AsyncSession, user_id: uuid.UUID) -> list[Row[Any]]:
    """The day rows a full recompute would store, without storing them."""
    base = _BASE.format(day_filter="")
    rows = await session.execute(text(f"{base} {_DAY_ROWS} ORDER BY 2"), {"user_id": user_id})
    return list(rows)


async def compute_subject_rows(session: AsyncSession, user_id: uuid.UUID) -> list[Row[Any]]:
    """The tag/topic rows a full recompute would store, without storing them."""
    base = _BASE.format(day_filter="")
    rows = await session.execute(
        text(f"{base} SELECT * FROM ({_SUBJECT_ROWS}) s ORDER BY 2, 3, 4"),  # noqa: S608
        {"user_id": user_id},
    )
    return list(rows)


async def list_stored_day_rows(session: AsyncSession, user_id: uuid.UUID) -> list[Row[Any]]:
    """The user's stored day rows, by day."""
    rows = await session.execute(
        text(f"SELECT {_DAY_COLUMNS} FROM stats_days WHERE user_id = :user_id ORDER BY day"),  # noqa: S608
        {"user_id": user_id},
    )
    return list(rows)


async def list_stored_subject_rows(session: AsyncSession, user_id: uuid.UUID) -> list[Row[Any]]:
    """The user's stored tag/topic rows, by day, kind and subject."""
    rows = await session.execute(
        text(
            f"SELECT {_SUBJECT_COLUMNS} FROM stats_day_subjects WHERE user_id = :user_id "  # noqa: S608
            "ORDER BY day, kind, subject_id"
        ),
        {"user_id": user_id},
    )
    return list(rows)


async def list_users_with_dirty_days(session: AsyncSession) -> list[uuid.UUID]:
    """Every user with pending marks (system role)."""
    return list(await session.scalars(text("SELECT DISTINCT user_id FROM stats_dirty_days")))


async def list_active_user_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every active user (system role)."""
    return list(await session.scalars(text("SELECT id FROM users WHERE is_active ORDER BY id")))
