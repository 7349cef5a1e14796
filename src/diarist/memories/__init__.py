"""Memories: entries brought back, by meaning (related) and by date (on this day)."""
