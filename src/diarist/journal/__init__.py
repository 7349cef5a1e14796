"""The journal: entries (any JSON, with derived plain text), revisions, tags."""
