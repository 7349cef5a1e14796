"""What a load is asked for (`DatasetSpec`) and what it gives back (`BenchUser`, `LoadReport`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

DIMENSIONS = 384
HEAVY_ENTRIES = 20_000


@dataclass(frozen=True)
class DatasetSpec:
    users: int
    entries_per_user: int
    heavy_entries: int = HEAVY_ENTRIES
    seed: int = 7
    # Index of the first user: a later load adds users after the ones already there.
    first_user: int = 0

    @property
    def total_entries(self) -> int:
        return self.users * self.entries_per_user + self.heavy_entries


@dataclass
class BenchUser:
    index: int
    id: uuid.UUID
    token: str
    heavy: bool
    entries: int
    tags: list[str]
    entry_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True)
class LoadReport:
    users: int
    entries: int
    entry_tags: int
    embeddings: int
    copy_s: float
    bulk_s: float
    index_s: float
    vacuum_analyze_s: float

    @property
    def entries_per_s(self) -> float:
        """Entries per second over everything but the HNSW rebuild and VACUUM ANALYZE."""
        return self.entries / max(self.copy_s + self.bulk_s, 1e-9)

    def as_dict(self) -> dict[str, Any]:
        return {
            "users": self.users,
            "entries": self.entries,
            "entry_tags": self.entry_tags,
            "embeddings": self.embeddings,
            "copy_s": round(self.copy_s, 2),
            "bulk_derived_s": round(self.bulk_s, 2),
            "hnsw_rebuild_s": round(self.index_s, 2),
            "vacuum_analyze_s": round(self.vacuum_analyze_s, 2),
            "entries_per_s": round(self.entries_per_s),
            "entries_per_s_incl_indexes": round(
                self.entries / max(self.copy_s + self.bulk_s + self.index_s, 1e-9)
            ),
        }
