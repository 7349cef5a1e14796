"""The queries of search, under the acting user's RLS context.

Plan choice (see docs/search.md): the user's rows are reached through the user_id indexes and
the `@@` match is a filter on them. Under forced RLS PostgreSQL will not use `@@` as an index
condition ahead of the policy anyway, and for one person's journal this costs a few
milliseconds (measured in tests/search and bench).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.journal.repository import EntryFilters, apply_filters
from diarist.models import Entry

HEADLINE_OPTIONS = "StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=12, MaxFragments=2"


@dataclass(frozen=True)
class KeywordHit:
    id: uuid.UUID
    title: str | None
    snippet: str
    score: float
    entry_date: datetime


async def keyword_search(
    session: AsyncSession,
    user_id: uuid.UUID,
    query: str,
    config: str,
    filters: EntryFilters,
    limit: int,
) -> list[KeywordHit]:
    """Rank with ts_rank_cd (recency breaks ties); snippets only for the page's rows."""
    tsquery = func.websearch_to_tsquery(cast(literal(config), REGCONFIG), query)
    score = func.ts_rank_cd(Entry.search_vector, tsquery, 32).label("score")
    ranked = (
        apply_filters(select(Entry.id, score), user_id, filters)
        .where(Entry.search_vector.op("@@")(tsquery))
        .order_by(score.desc(), Entry.entry_date.desc(), Entry.id.desc())
        .limit(limit)
        .subquery()
    )
    headline = func.ts_headline(Entry.search_config, Entry.content, tsquery, HEADLINE_OPTIONS)
    rows = await session.execute(
        select(Entry.id, Entry.title, headline, ranked.c.score, Entry.entry_date)
        .join(ranked, ranked.c.id == Entry.id)
        .order_by(ranked.c.score.desc(), Entry.entry_date.desc(), Entry.id.desc())
    )
    return [KeywordHit(r[0], r[1], r[2], float(r[3]), r[4]) for r in rows]


async def known_words(session: AsyncSession, user_id: uuid.UUID, words: list[str]) -> set[str]:
    rows = await session.execute(
        text("SELECT word FROM user_words WHERE user_id = :user AND word = ANY(:words)"),
        {"user": user_id, "words": words},
    )
    return {row[0] for row in rows}


async def closest_word(
    session: AsyncSession, user_id: uuid.UUID, word: str, threshold: float
) -> str | None:
    """The user's own word most like `word` (trigram similarity), favouring frequent words."""
    row = (
        await session.execute(
            text(
                "SELECT word FROM user_words "
                "WHERE user_id = :user AND similarity(word, :word) >= :threshold "
                "ORDER BY similarity(word, :word) DESC, entry_count DESC, word LIMIT 1"
            ),
            {"user": user_id, "word": word, "threshold": threshold},
        )
    ).first()
    return str(row[0]) if row else None
