"""Keyword search with typo tolerance: when a query finds little, words the user never wrote
are corrected to the closest words they did write, and the query is widened with them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.journal import repository as journal_repo
from diarist.journal.languages import search_config
from diarist.journal.service import writer_defaults
from diarist.search import repository as repo
from diarist.search.repository import KeywordHit

# Fewer hits than this and the query is checked for typos.
FEW_HITS = 3
SIMILARITY = 0.35
_TOKEN = re.compile(r'"[^"]*"|\S+')
_OPERATORS = {"or", "and", "not"}


@dataclass(frozen=True)
class SearchResult:
    hits: list[KeywordHit]
    corrected_query: str | None


def _correctable(token: str) -> str | None:
    """A bare word of the query (not a phrase, exclusion or operator), lower-cased."""
    if token.startswith(('"', "-")) or token.lower() in _OPERATORS:
        return None
    word = re.sub(r"[^\w]", "", token).lower()
    return word if len(word) >= 3 and not word.isdigit() else None


async def _corrected(session: AsyncSession, user_id: uuid.UUID, query: str) -> str | None:
    tokens = _TOKEN.findall(query)
    words = {t: w for t in tokens if (w := _correctable(t))}
    if not words:
        return None
    known = await repo.known_words(session, user_id, sorted(set(words.values())))
    changed = False
    rewritten: list[str] = []
    for token in tokens:
        word = words.get(token)
        fix = None
        if word is not None and word not in known:
            fix = await repo.closest_word(session, user_id, word, SIMILARITY)
        if fix is not None and fix != word:
            rewritten.append(f"{token} or {fix}")
            changed = True
        else:
            rewritten.append(token)
    return " ".join(rewritten) if changed else None


async def keyword_search(
    session: AsyncSession,
    user_id: uuid.UUID,
    query: str,
    filters: journal_repo.EntryFilters,
    limit: int,
) -> SearchResult:
    defaults = await writer_defaults(session, user_id)
    config = search_config(defaults.language)
    hits = await repo.keyword_search(session, user_id, query, config, filters, limit)
    if len(hits) >= FEW_HITS:
        return SearchResult(hits, None)
    corrected = await _corrected(session, user_id, query)
    if corrected is None:
        return SearchResult(hits, None)
    widened = await repo.keyword_search(session, user_id, corrected, config, filters, limit)
    return (
        SearchResult(widened, corrected) if len(widened) > len(hits) else SearchResult(hits, None)
    )
