"""Which text search configuration an entry is indexed and searched with: its author's
language's. The mapping is SQL's (`diarist_search_config`, db/sql/journal/search_config.sql),
so that a hot read can name the tenant's configuration inside its own statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.dialects.postgresql import REGCONFIG


def search_config_of(language: str) -> ColumnElement[Any]:
    """`de-CH` -> diarist_german; unknown languages get unaccented words without stemming."""
    return func.diarist_search_config(language, type_=REGCONFIG)


def my_search_config() -> ColumnElement[Any]:
    """The configuration of the acting user (the transaction's tenant)."""
    return func.diarist_my_search_config(type_=REGCONFIG)
