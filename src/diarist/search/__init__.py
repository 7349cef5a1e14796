"""Search over a user's own entries: keyword, semantic, or both fused (hybrid)."""
