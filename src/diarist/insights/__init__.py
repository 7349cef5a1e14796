"""Insights from a user's own journal: related memories, on this day (more to come)."""
