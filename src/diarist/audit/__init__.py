"""The row audit trail, as its owner reads it (docs/audit.md)."""
