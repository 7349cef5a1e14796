"""Keywords of an entry with YAKE (statistical, language-aware, offline)."""

from __future__ import annotations

from functools import lru_cache

import yake

MAX_KEYWORDS = 8


@lru_cache(maxsize=8)
def _extractor(language: str) -> yake.KeywordExtractor:
    return yake.KeywordExtractor(lan=language, n=2, dedupLim=0.8, top=MAX_KEYWORDS)


def extract_keywords(text: str, language: str = "en") -> list[dict[str, float | str]]:
    """Up to 8 keywords (1-2 words), most relevant first; relevance 0..1 (1 best)."""
    if not text.strip():
        return []
    found = _extractor(language[:2]).extract_keywords(text)
    return [
        {"keyword": phrase.lower(), "relevance": round(1.0 / (1.0 + 10 * float(score)), 4)}
        for phrase, score in found
    ]
