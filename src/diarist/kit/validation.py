"""Input rules shared by every schema."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

MAX_DEPTH = 64


def find_nul(value: Any, depth: int = 0) -> bool:
    """True if a NUL character hides in a string or key anywhere in `value`.

    PostgreSQL text and jsonb cannot hold U+0000; refused at the door it is a 422, not a 500.
    """
    if depth > MAX_DEPTH:
        return False  # deeper structures are refused by the rules of their own field
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(find_nul(k, depth + 1) or find_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(find_nul(item, depth + 1) for item in value)
    return False


class StrictInput(BaseModel):
    """A request body or query: unknown fields and NUL characters are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if find_nul(data):
            raise ValueError("text must not contain NUL (U+0000) characters")
        return data


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names (`zoneinfo.available_timezones()` reads the zone files on every
    call: once per process is enough)."""
    return frozenset(zoneinfo.available_timezones())
