"""How entries are shown: the summary in lists and the full entry, for every domain that
presents entries (timeline, search, memories)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from diarist.journal.content import excerpt, reading_minutes
from diarist.journal.repository import EntryView
from diarist.journal.schemas import AnalysisOut, EntryOut, EntrySummary, SentimentOut
from diarist.models import Entry

__all__ = ["EXCERPT_CHARS", "EntrySummary", "analysis_out", "summary_out", "view_out"]

EXCERPT_CHARS = 280


def summary_out(entry: Entry | Row[Any], tags: list[str]) -> dict[str, Any]:
    """The fields of an entry in lists (timeline, related, on this day)."""
    return {
        "id": entry.id,
        "title": entry.title,
        "excerpt": excerpt(entry.content, EXCERPT_CHARS),
        "entry_type": entry.entry_type,
        "format": entry.format,
        "mood_rating": entry.mood_rating,
        "entry_date": entry.entry_date,
        "timezone": entry.timezone,
        "visibility": entry.visibility,
        "starred": entry.starred,
        "pinned": entry.pinned,
        "tags": tags,
        "word_count": entry.word_count,
        "reading_minutes": reading_minutes(entry.word_count),
        "processing_status": entry.processing_status,
        "version": entry.version,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "deleted_at": entry.deleted_at,
    }


def analysis_out(
    entry: Entry, results: dict[str, dict[str, Any]], topics: list[str]
) -> AnalysisOut:
    sentiment = results.get("sentiment")
    emotions = results.get("emotions")
    keywords = results.get("keywords")
    return AnalysisOut(
        status=entry.processing_status,
        error=entry.analysis_error,
        sentiment=SentimentOut.model_validate(sentiment) if sentiment else None,
        emotions=emotions["scores"] if emotions else None,
        keywords=[k["keyword"] for k in keywords["keywords"]] if keywords else None,
        reflection=results["reflection"]["text"] if "reflection" in results else None,
        topics=topics,
    )


def view_out(view: EntryView) -> EntryOut:
    entry = view.entry
    return EntryOut.model_validate(
        {
            **summary_out(entry, view.tags),
            "raw_data": entry.raw_data,
            "metadata": entry.meta,
            "published_at": entry.published_at,
            "analysis": analysis_out(entry, view.results, view.topics),
        }
    )
