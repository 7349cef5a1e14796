"""Query vectors to PostgreSQL in pgvector's binary form: a 4-byte header (dimensions, 0)
and big-endian float4 values, made by numpy in one step instead of 384 floats formatted as
text and parsed again. The parameter is sent without a type: the statement (`embedding <=>
%(vector)s`) tells the server it is a `vector`, so no type lookup per connection is needed.
Only the hot statements of db.pipeline send it; SQLAlchemy's `Vector` type still writes
stored embeddings."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format


class QueryVector:
    """A vector to send as a statement parameter (db.pipeline)."""

    __slots__ = ("values",)

    def __init__(self, values: Sequence[float]) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)


class _QueryVectorDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: QueryVector) -> bytes:
        values = np.asarray(obj.values, dtype=">f4")
        return struct.pack(">HH", len(values), 0) + values.tobytes()


psycopg.adapters.register_dumper(QueryVector, _QueryVectorDumper)
