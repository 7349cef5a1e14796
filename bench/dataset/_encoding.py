"""COPY's formats: text fields and rows, and the binary rows of entry_embeddings."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.dataset._spec import DIMENSIONS

if TYPE_CHECKING:
    import numpy as np

    from bench.dataset._plan import PlannedEntry, UserPlan

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def encode_text(value: str | None) -> str:
    return "\\N" if value is None else value.translate(_ESCAPES)


def encode_bytea(value: bytes | None) -> str:
    return "\\N" if value is None else "\\\\x" + value.hex()


def encode_timestamp(value: datetime) -> str:
    return value.isoformat()


def encode_row(*values: str) -> str:
    return "\t".join(values) + "\n"


def _encode_binary_field(value: bytes) -> bytes:
    return struct.pack(">i", len(value)) + value


def encode_embedding_row(
    plan: UserPlan, entry: PlannedEntry, vector: np.ndarray[Any, Any], model: bytes
) -> bytes:
    """One entry_embeddings row in COPY's binary format (pgvector: dim, unused, float4s)."""
    micros = (entry.created_at - _PG_EPOCH) // timedelta(microseconds=1)
    return b"".join(
        (
            b"\x00\x07",
            _encode_binary_field(plan.id.bytes),
            _encode_binary_field(entry.id.bytes),
            _encode_binary_field(model),
            _encode_binary_field(struct.pack(">i", DIMENSIONS)),
            _encode_binary_field(struct.pack(">hh", DIMENSIONS, 0) + vector.tobytes()),
            _encode_binary_field(entry.content_hash),
            _encode_binary_field(struct.pack(">q", micros)),
        )
    )
