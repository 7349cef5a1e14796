"""Search over a user's own entries: keyword now; semantic and hybrid later."""
