"""Every zone name diarist accepts is one PostgreSQL knows (an entry's zone is used in SQL)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.kit.validation import time_zones


async def test_every_accepted_zone_is_known_to_postgresql(session: AsyncSession) -> None:
    known = set((await session.scalars(text("SELECT name FROM pg_timezone_names"))).all())
    assert time_zones() - known == set()
    assert "Europe/Berlin" in time_zones()
