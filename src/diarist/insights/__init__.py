"""Insights from a user's own journal: related memories, on this day, statistics kept by the
worker from a dirty-day log, and stored insights (see docs/insights.md)."""
