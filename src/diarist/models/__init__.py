"""Every ORM table of diarist, one module per aggregate, re-exported here for Alembic."""

from diarist.models.accounts import AuthCode, AuthThrottle, AuthToken, SecurityEvent, User
from diarist.models.base import Base, Timestamps, UUIDv7PrimaryKey

__all__ = [
    "AuthCode",
    "AuthThrottle",
    "AuthToken",
    "Base",
    "SecurityEvent",
    "Timestamps",
    "UUIDv7PrimaryKey",
    "User",
]
