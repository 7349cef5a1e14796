"""Every query of insights, under the acting user's RLS context (the cross-user listings are for
the system role).

- `_days`: the dirty-day log and the per-day statistics recomputed from the source rows
- `_reads`: reads of the stored statistics
- `_stored`: stored insights
"""

from __future__ import annotations

from diarist.insights.repository._days import (
    claim_dirty_days,
    clear_dirty_days,
    compute_day_rows,
    compute_subject_rows,
    list_active_user_ids,
    list_stored_day_rows,
    list_stored_subject_rows,
    list_users_with_dirty_days,
    lock_user_statistics,
    recompute_days,
)
from diarist.insights.repository._reads import (
    count_entries_by_hour,
    count_entries_by_weekday,
    count_subject_usage_by_month,
    list_active_days,
    sum_day_means,
    sum_day_means_by_weekday,
    sum_emotions,
    sum_moments,
    sum_moments_by_period,
    sum_subject_moments,
)
from diarist.insights.repository._stored import (
    deactivate_insights_except,
    get_insight,
    list_insights,
    upsert_insight,
)

__all__ = [
    "claim_dirty_days",
    "clear_dirty_days",
    "compute_day_rows",
    "compute_subject_rows",
    "count_entries_by_hour",
    "count_entries_by_weekday",
    "count_subject_usage_by_month",
    "deactivate_insights_except",
    "get_insight",
    "list_active_days",
    "list_active_user_ids",
    "list_insights",
    "list_stored_day_rows",
    "list_stored_subject_rows",
    "list_users_with_dirty_days",
    "lock_user_statistics",
    "recompute_days",
    "sum_day_means",
    "sum_day_means_by_weekday",
    "sum_emotions",
    "sum_moments",
    "sum_moments_by_period",
    "sum_subject_moments",
    "upsert_insight",
]
