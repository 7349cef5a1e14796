"""Everything random about the dataset, from the seed alone: users, their tags and vectors, and
each entry as the row `POST /entries` would have written."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bench.dataset._encoding import encode_bytea, encode_row, encode_text, encode_timestamp
from bench.dataset._spec import DIMENSIONS, DatasetSpec
from bench.generator import TAGS, entry_title, journal_entry_text
from diarist.accounts.personal_data import USER_EMAIL, PersonalData
from diarist.accounts.secrets import PAT_PREFIX
from diarist.journal.content import derive

CLUSTERS = 8
ZONES = (
    "Europe/Lisbon", "America/New_York", "Asia/Tokyo", "Australia/Hobart", "America/Sao_Paulo",
    "Europe/Berlin", "Africa/Nairobi", "Asia/Kolkata", "UTC", "America/Los_Angeles",
    "Pacific/Auckland", "Europe/Helsinki",
)  # fmt: skip
# Every timestamp is relative to this instant, so that two runs write the same rows.
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
_CONFIG = "english"  # diarist_search_config("en")
_WORD = re.compile(r"[a-z]+")
# The columns of an entry's line, in order.
ENTRY_COLUMNS = (
    "id, user_id, title, raw_data, format, content, content_hash, entry_type, metadata, "
    "mood_rating, entry_date, timezone, visibility, starred, pinned, processing_status, "
    "analysis_requested_at, analyzed_hash, word_count, search_config, created_at, updated_at"
)


def uuid7(ms: int, rng: random.Random) -> uuid.UUID:
    """A version-7 UUID for a given Unix millisecond (what PostgreSQL's uuidv7() makes)."""
    value = (ms & (2**48 - 1)) << 80
    value |= 0x7 << 76 | rng.getrandbits(12) << 64
    value |= 0b10 << 62 | rng.getrandbits(62)
    return uuid.UUID(int=value)


def derive_bench_token(seed: int, index: int) -> str:
    """The user's bearer token: a personal access token, derived from the seed."""
    digest = hashlib.sha256(f"diarist-bench-{seed}-{index}".encode()).digest()
    return PAT_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class PlannedEntry:
    id: uuid.UUID
    line: str
    content_hash: bytes
    created_at: datetime
    tag_ids: list[uuid.UUID]
    words: frozenset[str]


class UserPlan:
    """Everything random about one user, from (seed, index) alone."""

    def __init__(self, spec: DatasetSpec, index: int, heavy: bool) -> None:
        self.index = index
        self.heavy = heavy
        rng = random.Random(spec.seed * 1_000_003 + index)
        self.entries = spec.heavy_entries if heavy else spec.entries_per_user
        self.zone = rng.choice(ZONES)
        self.years = 1 + rng.random() * (7 if heavy else 4)
        self.created = EPOCH - timedelta(days=365 * self.years + 1)
        self.id = uuid7(int(self.created.timestamp() * 1000), rng)
        self.token = derive_bench_token(spec.seed, index)
        self.tags = sorted(rng.sample(TAGS, rng.randint(6, 14)))
        self.tag_ids = {
            name: uuid7(int(self.created.timestamp() * 1000) + n, rng)
            for n, name in enumerate(self.tags)
        }
        span_s = (EPOCH - self.created).total_seconds() - 3600
        self.offsets = sorted(rng.random() * span_s for _ in range(self.entries))
        self.vector_seed = spec.seed * 7_919 + index

    def vectors(self) -> np.ndarray[Any, Any]:
        """One clustered unit vector per entry (the whole user's, so that any slice of the
        entries gets the same vectors whatever the number of loader processes)."""
        rng = np.random.default_rng(self.vector_seed)
        centers = rng.standard_normal((CLUSTERS, DIMENSIONS))
        clusters = rng.integers(0, CLUSTERS, self.entries)
        vectors = centers[clusters] + rng.standard_normal((self.entries, DIMENSIONS)) * 0.8
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(">f4")


def plan_users(spec: DatasetSpec) -> list[UserPlan]:
    plans = [UserPlan(spec, spec.first_user + i, False) for i in range(spec.users)]
    if spec.heavy_entries:
        plans.append(UserPlan(spec, spec.first_user + spec.users, True))
    return plans


def encode_user_row(plan: UserPlan, password_hash: str, personal: PersonalData) -> str:
    """The user's row, its address sealed and indexed as the server it is loaded for does."""
    preferences = json.dumps({"timezone": plan.zone, "language": "en"})
    email = f"bench-{plan.index}@example.org"
    return encode_row(
        str(plan.id),
        encode_bytea(personal.seal(USER_EMAIL, email)),
        encode_bytea(personal.email_index(email)),
        f"Bench user {plan.index}",
        encode_text(password_hash),
        "email",
        encode_text(preferences),
        encode_timestamp(plan.created),
        encode_timestamp(plan.created),
    )


def extract_words(content: str) -> frozenset[str]:
    """journal_words() for the generator's plain ASCII text (checked against it before a load)."""
    return frozenset(w for w in set(_WORD.findall(content.lower())) if 3 <= len(w) <= 40)


def derive_entry_seed(plan: UserPlan, spec: DatasetSpec, n: int) -> int:
    return spec.seed * 10_000_019 + plan.index * 100_003 + n


def generate_entry(plan: UserPlan, spec: DatasetSpec, n: int) -> PlannedEntry:
    """The user's n-th entry (oldest first), as plain text like the API stores `{"text": ...}`."""
    seed = derive_entry_seed(plan, spec, n)
    rng = random.Random(seed)
    derived = derive({"text": journal_entry_text(seed)})
    title = entry_title(seed)
    entry_date = plan.created + timedelta(seconds=3600 + plan.offsets[n])
    created_at = entry_date + timedelta(minutes=rng.randint(0, 240))
    mood = None if rng.random() < 0.15 else max(1, min(10, round(rng.gauss(6.3, 1.9))))
    zone = plan.zone if rng.random() < 0.9 else rng.choice(ZONES)
    meta = {"location": rng.choice(("home", "office", "train", "cafe"))} if n % 5 == 0 else {}
    entry_id = uuid7(int(created_at.timestamp() * 1000), rng)
    tags = rng.sample(plan.tags, rng.choice((0, 1, 1, 2, 2, 3)))
    line = encode_row(
        str(entry_id),
        str(plan.id),
        encode_text(title),
        encode_text(json.dumps({"text": derived.content})),
        derived.format,
        encode_text(derived.content),
        encode_bytea(derived.content_hash),
        "text",
        encode_text(json.dumps(meta)),
        "\\N" if mood is None else str(mood),
        encode_timestamp(entry_date),
        zone,
        "private",
        "t" if rng.random() < 0.05 else "f",
        "t" if rng.random() < 0.01 else "f",
        "completed",
        encode_timestamp(created_at),
        encode_bytea(derived.content_hash),
        str(derived.word_count),
        _CONFIG,
        encode_timestamp(created_at),
        encode_timestamp(created_at),
    )
    return PlannedEntry(
        entry_id,
        line,
        derived.content_hash,
        created_at,
        [plan.tag_ids[t] for t in tags],
        extract_words(derived.content),
    )
