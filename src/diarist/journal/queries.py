"""The journal's public face for the domains that read entries (search, memories): the
timeline's filters and listing query, one entry by id, tag names, excerpts, the acting
user's text search configuration and the upkeep of their vocabulary."""

from __future__ import annotations

from diarist.journal.content import excerpt
from diarist.journal.errors import InvalidEntry
from diarist.journal.filters import EntryQuery, resolve_filters
from diarist.journal.languages import my_search_config
from diarist.journal.repository import EntryFilters, apply_filters, list_entries
from diarist.journal.service import fold_vocabulary, get_entry, tag_names_for

__all__ = [
    "EntryFilters",
    "EntryQuery",
    "InvalidEntry",
    "apply_filters",
    "excerpt",
    "fold_vocabulary",
    "get_entry",
    "list_entries",
    "my_search_config",
    "resolve_filters",
    "tag_names_for",
]
