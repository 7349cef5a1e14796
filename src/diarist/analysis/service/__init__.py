"""The analysis pipeline's rules: request analysis with the write that needs it, run it once per
text (by content hash), record failures, and re-queue what got stuck; topics and tag
suggestions. Callers use this package as a module: `analysis_service.analyze_entry(...)`.

- `_pipeline`: requesting analysis, and one entry's run in transactions of its own
- `_topics`: listing, renaming, hiding and merging topics
- `_suggestions`: tag suggestions, accepting one, auto-applied tags
- `_upkeep`: stalled jobs, stuck entries, expired results, backfill and counts (system role)
"""

from __future__ import annotations

from diarist.analysis.service._pipeline import (
    Outcome,
    analysis_deferral,
    analyze_entry,
    defer_analysis,
    defer_batch_analysis,
    defer_entry_analyses,
    request_analysis,
)
from diarist.analysis.service._suggestions import (
    AUTO_APPLY_CONFIDENCE,
    SUGGESTION_CONFIDENCE,
    accept_suggestion,
    suggest_tags,
)
from diarist.analysis.service._topics import list_topics, merge_topic, update_topic
from diarist.analysis.service._upkeep import (
    backfill_targets,
    purge_expired_results,
    queue_counts,
    queue_many,
    requeue_stuck,
    revive_stalled_jobs,
    status_counts,
)

__all__ = [
    "AUTO_APPLY_CONFIDENCE",
    "SUGGESTION_CONFIDENCE",
    "Outcome",
    "accept_suggestion",
    "analysis_deferral",
    "analyze_entry",
    "backfill_targets",
    "defer_analysis",
    "defer_batch_analysis",
    "defer_entry_analyses",
    "list_topics",
    "merge_topic",
    "purge_expired_results",
    "queue_counts",
    "queue_many",
    "request_analysis",
    "requeue_stuck",
    "revive_stalled_jobs",
    "status_counts",
    "suggest_tags",
    "update_topic",
]
