"""The secret vault: zero-knowledge secret tags (OPAQUE), wrapped keys and encrypted blobs
(docs/vault.md)."""
