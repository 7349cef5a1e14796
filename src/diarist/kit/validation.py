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


def find_unstorable(value: Any) -> bool:
    """True if a value PostgreSQL cannot store hides anywhere in `value`: a NUL character or
    an unpaired surrogate in a string or key, or a number that is not finite (NaN, Infinity,
    1e999 as JSON parses them). Refused at the door it is a 422, not a 500.

    One walk that gathers the strings and one search of them all: every entry of an import
    passes here, and a search per string cost more than the walk."""
    texts: list[str] = []
    # Deeper than MAX_DEPTH, structures are refused by the rules of their own field.
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif depth < MAX_DEPTH and isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str):
                    texts.append(key)
                else:  # JSON's keys are strings; a Python caller's may be anything
                    pending.append((key, depth + 1))
                pending.append((inner, depth + 1))
        elif depth < MAX_DEPTH and isinstance(item, list | tuple):
            pending.extend((inner, depth + 1) for inner in item)
    # Joined, a lone surrogate stays one: Python never pairs two code points of a str.
    return _UNSTORABLE_TEXT.search("".join(texts)) is not None


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
