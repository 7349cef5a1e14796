"""Queries of stored insights: one row per fingerprint, deactivation, listing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Insight


async def upsert_insight(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    insight_type: str,
    fingerprint: str,
    data: dict[str, Any],
    confidence: float,
    now: datetime,
) -> None:
    """One row per (user, fingerprint): new evidence replaces the old and makes it active;
    a dismissal stays."""
    await session.execute(
        text(
            """
            INSERT INTO insights (user_id, insight_type, fingerprint, insight_data,
                                  confidence_level, generated_at, is_active)
            VALUES (:user_id, :insight_type, :fingerprint, :data, :confidence, :now, true)
            ON CONFLICT (user_id, fingerprint) DO UPDATE
            SET insight_type = excluded.insight_type, insight_data = excluded.insight_data,
                confidence_level = excluded.confidence_level,
                generated_at = excluded.generated_at, is_active = true
            """
        ).bindparams(bindparam("data", type_=JSONB())),
        {
            "user_id": user_id,
            "insight_type": insight_type,
            "fingerprint": fingerprint,
            "data": data,
            "confidence": confidence,
            "now": now,
        },
    )


async def deactivate_insights_except(
    session: AsyncSession, user_id: uuid.UUID, fingerprints: Sequence[str]
) -> int:
    """Mark the user's insights that the latest generation did not find again inactive."""
    result = await session.execute(
        text(
            "UPDATE insights SET is_active = false WHERE user_id = :user_id AND is_active "
            "AND NOT (fingerprint = ANY(:fingerprints))"
        ),
        {"user_id": user_id, "fingerprints": list(fingerprints)},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def list_insights(
    session: AsyncSession, user_id: uuid.UUID, *, include_dismissed: bool
) -> list[Insight]:
    """The user's active insights, most confident first."""
    query = select(Insight).where(Insight.user_id == user_id, Insight.is_active)
    if not include_dismissed:
        query = query.where(Insight.dismissed_at.is_(None))
    query = query.order_by(Insight.confidence_level.desc(), Insight.generated_at.desc())
    return list((await session.scalars(query)).all())


async def get_insight(
    session: AsyncSession, user_id: uuid.UUID, insight_id: uuid.UUID
) -> Insight | None:
    """One of the user's insights."""
    return await session.scalar(
        select(Insight).where(Insight.user_id == user_id, Insight.id == insight_id)
    )
