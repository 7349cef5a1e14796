"""Errors of the search domain, each with a stable code."""

from __future__ import annotations

from diarist.errors import DiaristError


class SemanticSearchUnavailable(DiaristError):
    status = 503
    code = "semantic_search_unavailable"
    title = "Semantic search is unavailable"
