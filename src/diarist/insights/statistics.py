"""Statistics of a user's journal: kept up to date from the dirty-day log by the worker, read by
the API (reads never write; they show what the last drain computed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences as preferences_api
from diarist.db.jobs import defer_once, share_lock_waiting_job
from diarist.insights import jobs
from diarist.insights import repository as repo
from diarist.insights.errors import InvalidPeriod
from diarist.kit.statistics import Moments, moments_of, welch

# Both the procrastinate lock (one refresh of a user runs at a time) and its queueing lock
# (at most one waits): insights_stats:<user id>.
REFRESH_LOCK = "insights_stats"
_REFRESH_ATTEMPTS = 5
DRAIN_BATCH = 1000
Granularity = Literal["day", "week", "month"]
SubjectKind = Literal["tag", "topic"]
_log = structlog.get_logger("diarist.insights.statistics")
EMOTIONS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")


# Maintenance.


async def request_refresh(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Queue a drain of the user's dirty days in the caller's transaction (wherever analysis
    results are saved). Coalesced: at most one refresh per user waits in the queue. When one
    waits already, it is share-locked until this transaction ends, so it cannot start before
    this transaction's marks are visible to it (a worker skips locked jobs)."""
    lock = f"{REFRESH_LOCK}:{user_id}"
    for _ in range(_REFRESH_ATTEMPTS):
        if await share_lock_waiting_job(session, lock):
            return
        if await defer_once(session, jobs.REFRESH_STATISTICS, lock=lock, user_id=str(user_id)):
            return
        # Another transaction queued one since: lock that one (unless a worker took it).
    _log.warning("statistics_refresh_not_queued", user_id=str(user_id))  # the minute drain will


async def drain_dirty_days(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Recompute every day the user's dirty-day log names, from the source rows; the number
    of days recomputed. Idempotent, and safe beside writers and other drains (see
    docs/insights.md)."""
    await repo.lock_user_statistics(session, user_id)
    done = 0
    while days := await repo.claim_dirty_days(session, user_id, DRAIN_BATCH):
        await repo.recompute_days(session, user_id, days)
        done += len(days)
    return done


async def rebuild_statistics(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Recompute all of the user's statistics from scratch (the nightly safety net)."""
    await repo.lock_user_statistics(session, user_id)
    await repo.clear_dirty_days(session, user_id)
    await repo.recompute_days(session, user_id, None)


async def list_users_with_dirty_days(session: AsyncSession) -> list[uuid.UUID]:
    """Users with pending marks (system role)."""
    return await repo.list_users_with_dirty_days(session)


async def list_active_user_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every active user (system role)."""
    return await repo.list_active_user_ids(session)


# Reads.


def check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise InvalidPeriod("`from` is after `to`.")


async def user_today(session: AsyncSession, user_id: uuid.UUID) -> date:
    """Today in the user's time zone (preferences.timezone, default UTC)."""
    return (await preferences_api.preferences_of(session, user_id)).today()


def summary(m: Moments) -> dict[str, Any]:
    """n, mean and sample standard deviation, rounded for display."""
    return {
        "n": m.n,
        "avg": None if m.mean is None else round(m.mean, 4),
        "stddev": None if m.stddev is None else round(m.stddev, 4),
    }


async def mood_over_time(
    session: AsyncSession,
    user_id: uuid.UUID,
    granularity: Granularity,
    start: date | None,
    end: date | None,
) -> list[dict[str, Any]]:
    """Self-reported mood and inferred sentiment side by side, per day, ISO week or month."""
    check_period(start, end)
    rows = await repo.sum_moments_by_period(session, user_id, granularity, start, end)
    return [
        {
            "period": row.period,
            "entries": int(row.entries),
            "mood": summary(moments_of(row, "mood")),
            "sentiment": summary(moments_of(row, "sentiment")),
        }
        for row in rows
    ]


@dataclass(frozen=True)
class Streaks:
    current: int
    longest: int
    longest_start: date | None
    longest_end: date | None


def compute_streaks(days: list[date], today: date) -> Streaks:
    """Runs of consecutive days in `days` (sorted); the current run counts today or, if
    nothing is written yet today, up to yesterday."""
    longest = 0
    start: date | None = None
    best: tuple[date | None, date | None] = (None, None)
    run = 0
    previous: date | None = None
    for day in days:
        if day > today:
            break  # entries dated in the future do not make a streak yet
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        if run == 1:
            start = day
        if run > longest:
            longest, best = run, (start, day)
        previous = day
    current = 0
    if previous is not None and today - previous <= timedelta(days=1):
        current = run
    return Streaks(current=current, longest=longest, longest_start=best[0], longest_end=best[1])


async def writing_statistics(
    session: AsyncSession, user_id: uuid.UUID, start: date | None, end: date | None
) -> dict[str, Any]:
    """Entries, words, streaks, and when I write (weekdays, hours)."""
    check_period(start, end)
    total = await repo.sum_moments(session, user_id, start, end)
    weekdays = await repo.count_entries_by_weekday(session, user_id, start, end)
    today = await user_today(session, user_id)
    streak = compute_streaks(await repo.list_active_days(session, user_id), today)
    return {
        "entries": int(total.entries or 0),
        "words": int(total.words or 0),
        "active_days": int(total.days or 0),
        "current_streak": streak.current,
        "longest_streak": streak.longest,
        "longest_streak_start": streak.longest_start,
        "longest_streak_end": streak.longest_end,
        "weekdays": [weekdays.get(day, 0) for day in range(1, 8)],
        "hours": await repo.count_entries_by_hour(session, user_id, start, end),
        "today": today,
    }


async def subject_usage(
    session: AsyncSession,
    user_id: uuid.UUID,
    kind: SubjectKind | None,
    start: date | None,
    end: date | None,
) -> list[dict[str, Any]]:
    """Entries per tag/topic per month."""
    check_period(start, end)
    found: dict[tuple[str, uuid.UUID], dict[str, Any]] = {}
    for row in await repo.count_subject_usage_by_month(session, user_id, kind, start, end):
        item = found.setdefault(
            (row.kind, row.subject_id),
            {"kind": row.kind, "id": row.subject_id, "name": row.name, "entries": 0, "months": []},
        )
        item["entries"] += int(row.entries)
        item["months"].append({"month": row.month, "entries": int(row.entries)})
    return sorted(found.values(), key=lambda i: (-i["entries"], i["name"]))


def _comparison(with_: Moments, total: Moments) -> dict[str, Any]:
    without = total - with_
    test = welch(with_, without)
    return {
        "with": summary(with_),
        "without": summary(without),
        "difference": None
        if with_.mean is None or without.mean is None
        else round(with_.mean - without.mean, 4),
        "welch_t": None if test is None else round(test.t, 3),
        "p_value": None if test is None else round(test.p_value, 5),
    }


async def subject_correlations(
    session: AsyncSession,
    user_id: uuid.UUID,
    kind: SubjectKind | None,
    min_entries: int,
    start: date | None,
    end: date | None,
) -> list[dict[str, Any]]:
    """For each tag/topic with at least `min_entries` entries: mood and sentiment with it
    against without it (counts on both sides, so small samples show as such)."""
    check_period(start, end)
    total = await repo.sum_moments(session, user_id, start, end)
    items = []
    for row in await repo.sum_subject_moments(session, user_id, kind, start, end):
        if int(row.entries) < min_entries:
            continue
        items.append(
            {
                "kind": row.kind,
                "id": row.subject_id,
                "name": row.name,
                "entries": int(row.entries),
                "entries_without": int(total.entries or 0) - int(row.entries),
                "mood": _comparison(moments_of(row, "mood"), moments_of(total, "mood")),
                "sentiment": _comparison(
                    moments_of(row, "sentiment"), moments_of(total, "sentiment")
                ),
            }
        )
    return items


async def emotion_distribution(
    session: AsyncSession, user_id: uuid.UUID, start: date | None, end: date | None
) -> dict[str, Any]:
    """Mean score of each emotion over the analysed entries of the range, and how often each
    was the dominant one."""
    check_period(start, end)
    total = await repo.sum_moments(session, user_id, start, end)
    n = int(total.emotions_n or 0)
    sums, dominant = await repo.sum_emotions(session, user_id, start, end)
    names = sorted(set(EMOTIONS) | set(sums) | set(dominant))
    return {
        "entries": n,
        "emotions": [
            {
                "emotion": name,
                "mean_score": round(sums.get(name, 0.0) / n, 4) if n else None,
                "dominant": dominant.get(name, 0),
            }
            for name in names
        ],
    }
