"""Every ORM table of diarist, one module per aggregate, re-exported here for Alembic."""

from diarist.models.base import Base, Timestamps, UUIDv7PrimaryKey

__all__ = ["Base", "Timestamps", "UUIDv7PrimaryKey"]
