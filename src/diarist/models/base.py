"""The declarative base: one MetaData with a naming convention, uuidv7 primary keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, ForeignKeyConstraint, MetaData, func, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDv7PrimaryKey:
    """Time-ordered ids from PostgreSQL 18's built-in `uuidv7()`: index-friendly inserts."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=text("uuidv7()"))


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def in_list(column: str, values: tuple[str, ...]) -> str:
    """`column IN ('a', 'b')` for a check constraint over a fixed vocabulary."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def user_fk() -> ForeignKey:
    """The owner of a user-owned row; deleting the user deletes the row."""
    return ForeignKey("users.id", ondelete="CASCADE")


def same_user_fk(table: str, column: str, target: str, name: str) -> ForeignKeyConstraint:
    """`(user_id, column)` -> `target(user_id, id)`: a row can only point at its own user's
    rows (the tenant is part of the key), and goes when that row goes."""
    return ForeignKeyConstraint(
        ["user_id", column],
        [f"{target}.user_id", f"{target}.id"],
        name=f"fk_{table}_{name}",
        ondelete="CASCADE",
    )
