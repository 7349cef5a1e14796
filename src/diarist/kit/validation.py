"""Input rules shared by every schema."""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict, model_validator

MAX_DEPTH = 64


# PostgreSQL's text and jsonb hold neither U+0000 nor an unpaired UTF-16 surrogate.
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def find_unstorable(value: Any, depth: int = 0) -> bool:
    """True if a value PostgreSQL cannot store hides anywhere in `value`: a NUL character or
    an unpaired surrogate in a string or key, or a number that is not finite (NaN, Infinity,
    1e999 as JSON parses them). Refused at the door it is a 422, not a 500."""
    if depth > MAX_DEPTH:
        return False  # deeper structures are refused by the rules of their own field
    if isinstance(value, str):
        return _UNSTORABLE_TEXT.search(value) is not None
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(
            find_unstorable(k, depth + 1) or find_unstorable(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return any(find_unstorable(item, depth + 1) for item in value)
    return False


# Pydantic reads a number, or a string of digits, as seconds since 1970 (`to=0` would be
# 1 January 1970, `20240501` a day in August 1970): dates and times come as ISO 8601 only.
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _refuse_numbers(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("expected an ISO 8601 date or date-time (e.g. 2024-05-01), not a number")
    return value


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_refuse_numbers)]
IsoDate = Annotated[dt.date, BeforeValidator(_refuse_numbers)]

# Numbers of a JSON body: `true` is not 1 (in lax mode Pydantic reads it so), nor "5" a number.
# Not for query parameters, which arrive as strings.
BodyInt = Annotated[int, Strict()]
BodyFloat = Annotated[float, Strict()]


class StrictInput(BaseModel):
    """A request body or query: unknown fields and values PostgreSQL cannot store (NUL,
    unpaired surrogates, non-finite numbers) are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if find_unstorable(data):
            raise ValueError(
                "text must not contain NUL (U+0000) or unpaired surrogate characters, "
                "and numbers must be finite"
            )
        return data


@cache
def time_zones() -> frozenset[str]:
    """The IANA zone names (`zoneinfo.available_timezones()` reads the zone files on every
    call: once per process is enough)."""
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


# Files of the zone database that name no zone PostgreSQL knows (`localtime` is this machine's
# own zone, whatever it is).
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
