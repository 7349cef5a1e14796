"""Stored insights: findings about a user's journal with their evidence, regenerated daily from
the statistics, reported only with enough evidence, never duplicated, and never brought back
once dismissed.

Effects (a weekday, a tag or topic, the last four weeks against the four before) are tested with
Welch's unequal-variance t-test over the entries on each side, from the stored n, Σx, Σx²:
reported when each side has at least `MIN_N` values, the two-sided p-value is at most `MAX_P`
and the difference of the means is at least `MIN_DIFFERENCE` of the measure (mood 1-10,
sentiment -1..1). The confidence is 1 - p.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.insights import statistics
from diarist.insights import stats_repository as repo
from diarist.insights.errors import InsightNotFound
from diarist.insights.moments import Moments, Welch, welch
from diarist.models import Insight

MIN_N = 8
MAX_P = 0.01
MIN_DIFFERENCE = {"mood": 0.75, "sentiment": 0.15}
EFFECT_WINDOW_DAYS = 365
TREND_WINDOW_DAYS = 28
MILESTONES = (7, 14, 30, 60, 100, 182, 365)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MEASURES = ("mood", "sentiment")


@dataclass(frozen=True)
class Finding:
    insight_type: str
    fingerprint: str
    data: dict[str, Any]
    confidence: float


def _moments(row: Any, measure: str) -> Moments:
    return Moments.of(
        getattr(row, f"{measure}_n"),
        getattr(row, f"{measure}_sum"),
        getattr(row, f"{measure}_sumsq"),
    )


def significant(a: Moments, b: Moments, measure: str) -> Welch | None:
    """Welch's test of a against b when it is evidence enough (see the module's docstring)."""
    if a.n < MIN_N or b.n < MIN_N:
        return None
    test = welch(a, b)
    if test is None or abs(test.difference) < MIN_DIFFERENCE[measure] or test.p_value > MAX_P:
        return None
    return test


def _confidence(test: Welch) -> float:
    return round(min(0.999, 1.0 - test.p_value), 3)


def _evidence(a: Moments, b: Moments, test: Welch) -> dict[str, Any]:
    assert a.mean is not None
    assert b.mean is not None
    return {
        "n": a.n,
        "mean": round(a.mean, 3),
        "n_other": b.n,
        "mean_other": round(b.mean, 3),
        "difference": round(test.difference, 3),
        "statistic": "welch_t",
        "t": round(test.t, 3),
        "df": round(test.df, 1),
        "p_value": round(test.p_value, 6),
    }


def _word(difference: float) -> str:
    return "higher" if difference > 0 else "lower"


async def _weekday_effects(
    session: AsyncSession, user_id: uuid.UUID, start: date, today: date
) -> list[Finding]:
    rows = await repo.moments_by_weekday(session, user_id, start, today)
    found = []
    for measure in _MEASURES:
        total = sum((_moments(row, measure) for row in rows), Moments(0, 0, 0))
        for row in rows:
            day = _moments(row, measure)
            other = total - day
            test = significant(day, other, measure)
            if test is None:
                continue
            name = WEEKDAYS[int(row.weekday) - 1]
            data = {
                "measure": measure,
                "weekday": int(row.weekday),
                "weekday_name": name,
                "from": start.isoformat(),
                "to": today.isoformat(),
                **_evidence(day, other, test),
            }
            data["summary"] = (
                f"Your {measure} is {_word(test.difference)} on {name}s: "
                f"{data['mean']:.2f} against {data['mean_other']:.2f} on other days "
                f"(n={day.n} vs {other.n})."
            )
            found.append(
                Finding(
                    "weekday_effect",
                    f"weekday_effect:{measure}:{int(row.weekday)}",
                    data,
                    _confidence(test),
                )
            )
    return found


async def _subject_effects(
    session: AsyncSession, user_id: uuid.UUID, start: date, today: date
) -> list[Finding]:
    total = await repo.moments_total(session, user_id, start, today)
    found = []
    for row in await repo.subject_moments(session, user_id, None, start, today):
        for measure in _MEASURES:
            with_ = _moments(row, measure)
            without = _moments(total, measure) - with_
            test = significant(with_, without, measure)
            if test is None:
                continue
            label = "tagged" if row.kind == "tag" else "about"
            data = {
                "measure": measure,
                "kind": row.kind,
                "subject_id": str(row.subject_id),
                "name": row.name,
                "from": start.isoformat(),
                "to": today.isoformat(),
                **_evidence(with_, without, test),
            }
            data["summary"] = (
                f"Entries {label} {row.name} average {test.difference:+.2f} {measure} "
                f"({data['mean']:.2f} against {data['mean_other']:.2f}; "
                f"n={with_.n} vs {without.n})."
            )
            found.append(
                Finding(
                    f"{row.kind}_effect",
                    f"{row.kind}_effect:{measure}:{row.subject_id}",
                    data,
                    _confidence(test),
                )
            )
    return found


async def _trends(session: AsyncSession, user_id: uuid.UUID, today: date) -> list[Finding]:
    recent_start = today - timedelta(days=TREND_WINDOW_DAYS - 1)
    before_start = recent_start - timedelta(days=TREND_WINDOW_DAYS)
    recent = await repo.moments_total(session, user_id, recent_start, today)
    before = await repo.moments_total(
        session, user_id, before_start, recent_start - timedelta(days=1)
    )
    weeks = await statistics.mood_over_time(session, user_id, "week", before_start, today)
    found = []
    for measure in _MEASURES:
        a, b = _moments(recent, measure), _moments(before, measure)
        test = significant(a, b, measure)
        if test is None:
            continue
        direction = "up" if test.difference > 0 else "down"
        data = {
            "measure": measure,
            "direction": direction,
            "from": recent_start.isoformat(),
            "to": today.isoformat(),
            "compared_from": before_start.isoformat(),
            **_evidence(a, b, test),
            "weeks": [
                {"week": w["period"].isoformat(), **w[measure]} for w in weeks if w[measure]["n"]
            ],
        }
        data["summary"] = (
            f"Your {measure} over the last {TREND_WINDOW_DAYS // 7} weeks is {direction} "
            f"({data['mean']:.2f} against {data['mean_other']:.2f} in the "
            f"{TREND_WINDOW_DAYS // 7} weeks before; n={a.n} vs {b.n})."
        )
        found.append(Finding("trend", f"trend:{measure}:{direction}", data, _confidence(test)))
    return found


async def _milestone(session: AsyncSession, user_id: uuid.UUID, today: date) -> list[Finding]:
    streak = statistics.streaks(await repo.active_days(session, user_id), today)
    reached = [m for m in MILESTONES if streak.longest >= m]
    if not reached:
        return []
    milestone = reached[-1]
    assert streak.longest_start is not None
    assert streak.longest_end is not None
    data = {
        "milestone": milestone,
        "longest_streak": streak.longest,
        "current_streak": streak.current,
        "since": streak.longest_start.isoformat(),
        "until": streak.longest_end.isoformat(),
        "summary": f"You wrote {streak.longest} days in a row "
        f"({streak.longest_start.isoformat()} to {streak.longest_end.isoformat()}).",
    }
    return [Finding("streak_milestone", f"streak_milestone:{milestone}", data, 1.0)]


async def find_insights(
    session: AsyncSession, user_id: uuid.UUID, today: date | None = None
) -> list[Finding]:
    """What the user's statistics support today (nothing is written)."""
    today = today or await statistics.user_today(session, user_id)
    start = today - timedelta(days=EFFECT_WINDOW_DAYS - 1)
    return [
        *await _weekday_effects(session, user_id, start, today),
        *await _subject_effects(session, user_id, start, today),
        *await _trends(session, user_id, today),
        *await _milestone(session, user_id, today),
    ]


async def generate_insights(
    session: AsyncSession, user_id: uuid.UUID, today: date | None = None
) -> list[Finding]:
    """Store what the statistics support (one row per fingerprint, dismissals kept) and mark
    what they no longer support inactive."""
    findings = await find_insights(session, user_id, today)
    now = datetime.now(UTC)
    for finding in findings:
        await repo.upsert_insight(
            session,
            user_id,
            insight_type=finding.insight_type,
            fingerprint=finding.fingerprint,
            data=finding.data,
            confidence=finding.confidence,
            now=now,
        )
    await repo.deactivate_insights_except(session, user_id, [f.fingerprint for f in findings])
    return findings


async def list_insights(
    session: AsyncSession, user_id: uuid.UUID, *, include_dismissed: bool
) -> list[Insight]:
    """My current insights (dismissed ones only when asked for)."""
    return await repo.list_insights(session, user_id, include_dismissed=include_dismissed)


async def _insight(session: AsyncSession, user_id: uuid.UUID, insight_id: uuid.UUID) -> Insight:
    insight = await repo.get_insight(session, user_id, insight_id)
    if insight is None:
        raise InsightNotFound()
    return insight


async def dismiss_insight(
    session: AsyncSession, user_id: uuid.UUID, insight_id: uuid.UUID
) -> Insight:
    """Hide an insight for good: regeneration keeps it dismissed."""
    insight = await _insight(session, user_id, insight_id)
    if insight.dismissed_at is None:
        insight.dismissed_at = datetime.now(UTC)
    await session.flush()
    return insight


async def restore_insight(
    session: AsyncSession, user_id: uuid.UUID, insight_id: uuid.UUID
) -> Insight:
    """Undo a dismissal."""
    insight = await _insight(session, user_id, insight_id)
    insight.dismissed_at = None
    await session.flush()
    return insight
