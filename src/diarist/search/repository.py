"""The queries of search, under the acting user's RLS context.

Plan choice (see docs/search.md): under forced RLS PostgreSQL will not use `@@` as an index
condition ahead of the policy, so the application role would match every one of a user's rows.
The match therefore runs in the narrow SECURITY DEFINER function `search_entry_ids()`, which
applies the caller's user filter itself and lets the GIN and user_id indexes combine.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, Uuid, cast, column, func, literal, select, text
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
    """Rank with ts_rank_cd (recency breaks ties); snippets only for the page's rows.

    The match itself runs in `search_entry_ids()` (see the journal migration); the other
    filters, the order and the snippets run here, under RLS.
    """
    tsquery = func.websearch_to_tsquery(cast(literal(config), REGCONFIG), query)
    matches = func.search_entry_ids(tsquery, filters.deleted).table_valued(
        column("entry_id", Uuid()), column("score", Float())
    )
    ranked = (
        apply_filters(select(Entry.id, matches.c.score), user_id, filters)
        .join(matches, matches.c.entry_id == Entry.id)
        .order_by(matches.c.score.desc(), Entry.entry_date.desc(), Entry.id.desc())
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
