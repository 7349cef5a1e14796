"""Stored insights: findings about a user's journal with their evidence, regenerated daily from
the statistics, reported only with enough evidence, never duplicated, and never brought back
once dismissed.

Effects (a weekday, a tag or topic, the last four weeks against the four before) are tested with
Welch's unequal-variance t-test from the stored n, Σx, Σx²: weekdays and trends over the days'
means (the entries of one day are not independent), tags and topics over entries. Every effect
test of one run counts towards one Benjamini-Hochberg correction; an effect is reported when
each side has at least `MIN_N` values, its adjusted p-value (q) is at most `MAX_Q` and the
difference of the means is at least `MIN_DIFFERENCE` of the measure (mood 1-10, sentiment
-1..1). The confidence is 1 - q.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.insights import repository as repo
from diarist.insights import statistics
from diarist.insights.errors import InsightNotFound
from diarist.kit.statistics import Moments, Welch, benjamini_hochberg, moments_of, welch
from diarist.models import Insight

MIN_N = 8
# The false discovery rate allowed among one run's effect findings. Under a journal with no
# real effect at all, BH at q controls the chance of any finding at about q (plus the effect
# floor below), measured in tests/insights/test_false_insights.py.
MAX_Q = 0.05
MIN_DIFFERENCE = {"mood": 0.75, "sentiment": 0.15}
EFFECT_WINDOW_DAYS = 365
TREND_WINDOW_DAYS = 28
MILESTONES = (7, 14, 30, 60, 100, 182, 365)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MEASURES = ("mood", "sentiment")


@dataclass(frozen=True)
class Finding:
    insight_type: str
    fingerprint: str
    data: dict[str, Any]
    confidence: float


@dataclass(frozen=True)
class EffectTest:
    """One comparison of a run: `a` against `b` on `measure`. The fingerprint is `key`, the
    direction found, then `suffix`; `data` holds what names the subject."""

    insight_type: str
    key: str
    measure: str
    a: Moments
    b: Moments
    data: dict[str, Any] = field(default_factory=dict)
    suffix: str = ""
    unit: str = "entries"


def select_effects(tests: Sequence[EffectTest]) -> list[Finding]:
    """The tests that hold (see the module's docstring), as findings with their evidence."""
    tested = [
        (test, result)
        for test in tests
        if test.a.n >= MIN_N and test.b.n >= MIN_N and (result := welch(test.a, test.b)) is not None
    ]
    q_values = benjamini_hochberg([result.p_value for _test, result in tested])
    found = []
    for (test, result), q in zip(tested, q_values, strict=True):
        if q > MAX_Q or abs(result.difference) < MIN_DIFFERENCE[test.measure]:
            continue
        found.append(_finding(test, result, q, len(tested)))
    return found


def _finding(test: EffectTest, result: Welch, q: float, tests: int) -> Finding:
    a, b = test.a, test.b
    assert a.mean is not None
    assert b.mean is not None
    trend = test.insight_type == "trend"
    if trend:
        direction = "up" if result.difference > 0 else "down"
    else:
        direction = "higher" if result.difference > 0 else "lower"
    data = {
        "measure": test.measure,
        **test.data,
        "direction": direction,
        "unit": test.unit,
        "n": a.n,
        "mean": round(a.mean, 3),
        "n_other": b.n,
        "mean_other": round(b.mean, 3),
        "difference": round(result.difference, 3),
        "statistic": "welch_t",
        "t": round(result.t, 3),
        "df": round(result.df, 1),
        "p_value": round(result.p_value, 6),
        "q_value": round(q, 6),
        "correction": "benjamini_hochberg",
        "tests": tests,
    }
    data["summary"] = _summary(test, data)
    return Finding(
        test.insight_type,
        f"{test.key}:{direction}{test.suffix}",
        data,
        round(min(0.999, 1.0 - q), 3),
    )


def _summary(test: EffectTest, data: dict[str, Any]) -> str:
    measure, counts = test.measure, f"n={data['n']} vs {data['n_other']} {test.unit}"
    means = f"{data['mean']:.2f} against {data['mean_other']:.2f}"
    if test.insight_type == "weekday_effect":
        name = data["weekday_name"]
        return (
            f"Your {measure} is {data['direction']} on {name}s: {means} on other days "
            f"(daily means; {counts})."
        )
    if test.insight_type == "trend":
        weeks = TREND_WINDOW_DAYS // 7
        return (
            f"Your {measure} over the last {weeks} weeks is {data['direction']} ({means} in the "
            f"{weeks} weeks before; daily means; {counts})."
        )
    label = "tagged" if data["kind"] == "tag" else "about"
    return (
        f"Entries {label} {data['name']} average {data['difference']:+.2f} {measure} "
        f"({means}; {counts})."
    )


def weekday_tests(rows: Sequence[Any], start: date, today: date) -> list[EffectTest]:
    """Each weekday's daily means against those of the other days."""
    tests = []
    for measure in MEASURES:
        total = sum((moments_of(row, measure) for row in rows), Moments(0, 0, 0))
        for row in rows:
            day = moments_of(row, measure)
            weekday = int(row.weekday)
            tests.append(
                EffectTest(
                    "weekday_effect",
                    f"weekday_effect:{measure}:{weekday}",
                    measure,
                    day,
                    total - day,
                    unit="days",
                    data={
                        "weekday": weekday,
                        "weekday_name": WEEKDAYS[weekday - 1],
                        "from": start.isoformat(),
                        "to": today.isoformat(),
                    },
                )
            )
    return tests


def subject_tests(total: Any, rows: Sequence[Any], start: date, today: date) -> list[EffectTest]:
    """Entries with each tag/topic against entries without it."""
    tests = []
    for row in rows:
        for measure in MEASURES:
            with_ = moments_of(row, measure)
            tests.append(
                EffectTest(
                    f"{row.kind}_effect",
                    f"{row.kind}_effect:{measure}:{row.subject_id}",
                    measure,
                    with_,
                    moments_of(total, measure) - with_,
                    data={
                        "kind": row.kind,
                        "subject_id": str(row.subject_id),
                        "name": row.name,
                        "from": start.isoformat(),
                        "to": today.isoformat(),
                    },
                )
            )
    return tests


def trend_tests(
    recent: Any, before: Any, weeks: list[dict[str, Any]], today: date
) -> list[EffectTest]:
    """The daily means of the last `TREND_WINDOW_DAYS` against the same span before. The
    fingerprint names the ISO week the window ends in: a later change is a new insight."""
    recent_start = today - timedelta(days=TREND_WINDOW_DAYS - 1)
    year, week, _ = today.isocalendar()
    tests = []
    for measure in MEASURES:
        tests.append(
            EffectTest(
                "trend",
                f"trend:{measure}",
                measure,
                moments_of(recent, measure),
                moments_of(before, measure),
                suffix=f":{year}-W{week:02d}",
                unit="days",
                data={
                    "from": recent_start.isoformat(),
                    "to": today.isoformat(),
                    "compared_from": (recent_start - timedelta(days=TREND_WINDOW_DAYS)).isoformat(),
                    "weeks": [
                        {"week": w["period"].isoformat(), **w[measure]}
                        for w in weeks
                        if w[measure]["n"]
                    ],
                },
            )
        )
    return tests


async def _effect_tests(session: AsyncSession, user_id: uuid.UUID, today: date) -> list[EffectTest]:
    start = today - timedelta(days=EFFECT_WINDOW_DAYS - 1)
    weekdays = await repo.sum_day_means_by_weekday(session, user_id, start, today)
    total = await repo.sum_moments(session, user_id, start, today)
    subjects = await repo.sum_subject_moments(session, user_id, None, start, today)
    recent_start = today - timedelta(days=TREND_WINDOW_DAYS - 1)
    before_start = recent_start - timedelta(days=TREND_WINDOW_DAYS)
    recent = await repo.sum_day_means(session, user_id, recent_start, today)
    before = await repo.sum_day_means(
        session, user_id, before_start, recent_start - timedelta(days=1)
    )
    weeks = await statistics.mood_over_time(session, user_id, "week", before_start, today)
    return [
        *weekday_tests(weekdays, start, today),
        *subject_tests(total, subjects, start, today),
        *trend_tests(recent, before, weeks, today),
    ]


async def _milestone(session: AsyncSession, user_id: uuid.UUID, today: date) -> list[Finding]:
    streak = statistics.compute_streaks(await repo.list_active_days(session, user_id), today)
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
    """What the user's statistics support on `today` (default: today in their time zone);
    nothing is written."""
    today = today or await statistics.user_today(session, user_id)
    return [
        *select_effects(await _effect_tests(session, user_id, today)),
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
