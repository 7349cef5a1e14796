"""Alembic environment: online migrations as the owner role, comparing against diarist.models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from diarist.db.migrate import include_name
from diarist.models import Base


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
