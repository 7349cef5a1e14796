"""HTTP routes: statistics and stored insights."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from diarist.accounts.dependencies import CurrentPrincipal
from diarist.db.session import DbSession
from diarist.insights import statistics, stored_insights
from diarist.insights.schemas import (
    CorrelationQuery,
    EmotionDistribution,
    InsightOut,
    InsightsQuery,
    MoodPoint,
    MoodQuery,
    MoodSeries,
    PeriodQuery,
    SubjectCorrelation,
    SubjectUsage,
    UsageQuery,
    WritingStatistics,
)
from diarist.kit.responses import problem_responses

insights_router = APIRouter(prefix="/api/v1/insights", tags=["insights"])
_PROBLEM = problem_responses(400, 401, 403, 404, 422)


# Statistics: computed by the worker from the dirty-day log (see docs/insights.md); reads only.


@insights_router.get("/mood", response_model=MoodSeries, responses=_PROBLEM)
async def mood(
    query: Annotated[MoodQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> MoodSeries:
    """My self-reported mood and inferred sentiment per day, week or month: n, avg, stddev."""
    items = await statistics.mood_over_time(
        session, me.user_id, query.granularity, query.start, query.end
    )
    return MoodSeries(
        granularity=query.granularity,
        start=query.start,
        end=query.end,
        items=[MoodPoint.model_validate(item) for item in items],
    )


@insights_router.get("/writing", response_model=WritingStatistics, responses=_PROBLEM)
async def writing(
    query: Annotated[PeriodQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> WritingStatistics:
    """Entries, words, streaks, and my writing weekdays and hours."""
    found = await statistics.writing_statistics(session, me.user_id, query.start, query.end)
    return WritingStatistics.model_validate(found)


@insights_router.get("/usage", response_model=list[SubjectUsage], responses=_PROBLEM)
async def usage(
    query: Annotated[UsageQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> list[SubjectUsage]:
    """Entries per tag and topic per month."""
    found = await statistics.subject_usage(session, me.user_id, query.kind, query.start, query.end)
    return [SubjectUsage.model_validate(item) for item in found]


@insights_router.get("/correlations", response_model=list[SubjectCorrelation], responses=_PROBLEM)
async def correlations(
    query: Annotated[CorrelationQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> list[SubjectCorrelation]:
    """Mood and sentiment of entries with each tag/topic against those without it."""
    found = await statistics.subject_correlations(
        session, me.user_id, query.kind, query.min_entries, query.start, query.end
    )
    return [SubjectCorrelation.model_validate(item) for item in found]


@insights_router.get("/emotions", response_model=EmotionDistribution, responses=_PROBLEM)
async def emotions(
    query: Annotated[PeriodQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> EmotionDistribution:
    """The emotions of my analysed entries over a period."""
    found = await statistics.emotion_distribution(session, me.user_id, query.start, query.end)
    return EmotionDistribution.model_validate(found)


# Stored insights.


@insights_router.get("", response_model=list[InsightOut], responses=_PROBLEM)
async def list_insights(
    query: Annotated[InsightsQuery, Query()], session: DbSession, me: CurrentPrincipal
) -> list[InsightOut]:
    """My current insights, most confident first; dismissed ones only when asked for."""
    found = await stored_insights.list_insights(
        session, me.user_id, include_dismissed=query.include_dismissed
    )
    return [InsightOut.model_validate(insight) for insight in found]


@insights_router.post(
    "/{insight_id}/dismiss",
    response_model=InsightOut,
    status_code=status.HTTP_200_OK,
    responses=_PROBLEM,
)
async def dismiss(insight_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> InsightOut:
    """Hide an insight; regenerating never brings it back."""
    return InsightOut.model_validate(
        await stored_insights.dismiss_insight(session, me.user_id, insight_id)
    )


@insights_router.post(
    "/{insight_id}/restore",
    response_model=InsightOut,
    status_code=status.HTTP_200_OK,
    responses=_PROBLEM,
)
async def restore(insight_id: uuid.UUID, session: DbSession, me: CurrentPrincipal) -> InsightOut:
    """Undo a dismissal."""
    return InsightOut.model_validate(
        await stored_insights.restore_insight(session, me.user_id, insight_id)
    )
