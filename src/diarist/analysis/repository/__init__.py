"""Every query of the analysis pipeline. Tasks run under the entry owner's RLS context; only the
sweeper and the retention purge (cross-user) run as the system role.

- `_pipeline`: one entry's analysis bookkeeping, results and embeddings
- `_topics`: topics of an entry's keywords, listing and merging them
- `_suggestions`: tags that fit an entry, and putting one on it
- `_upkeep`: cross-user sweeps, backfill and counts (system role)
"""

from __future__ import annotations

from diarist.analysis.repository._pipeline import (
    awaiting_analysis,
    entry_for_analysis,
    forget_analysis,
    has_embedding,
    has_result,
    mark_requested,
    save_embedding,
    save_result,
    set_status,
)
from diarist.analysis.repository._suggestions import assign_tag, tag_suggestions
from diarist.analysis.repository._topics import get_topic, link_topics, list_topics, merge_topics
from diarist.analysis.repository._upkeep import (
    backfill_targets,
    missing_remote_vectors,
    purge_expired_results,
    status_counts,
    stuck_entries,
)

__all__ = [
    "assign_tag",
    "awaiting_analysis",
    "backfill_targets",
    "entry_for_analysis",
    "forget_analysis",
    "get_topic",
    "has_embedding",
    "has_result",
    "link_topics",
    "list_topics",
    "mark_requested",
    "merge_topics",
    "missing_remote_vectors",
    "purge_expired_results",
    "save_embedding",
    "save_result",
    "set_status",
    "status_counts",
    "stuck_entries",
    "tag_suggestions",
]
