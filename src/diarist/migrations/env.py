"""Alembic environment: online migrations as the owner role, comparing against diarist.models."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Literal

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from diarist.models import Base

# Objects that migrations create but no ORM model describes (procrastinate's queue schema).
_UNMODELLED_PREFIXES = ("procrastinate_",)


def include_name(
    name: str | None,
    type_: str,
    _parent: MutableMapping[
        Literal["schema_name", "table_name", "schema_qualified_table_name"], str | None
    ],
) -> bool:
    if type_ == "table" and name is not None:
        return not name.startswith(_UNMODELLED_PREFIXES)
    return True


def run_migrations() -> None:
    url = context.config.attributes.get("url")
    if url is None:
        raise RuntimeError("diarist migrations run through `diarist db ...` (no URL given)")
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_name=include_name,
            compare_type=True,
            compare_server_default=False,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
