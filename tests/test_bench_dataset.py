"""The bench's dataset loader writes what diarist would have written: it COPYs past the
row-by-row triggers and derives their rows in bulk, so a trigger added or changed in the
schema must be known to it. A small load checked against what the triggers keep."""

from __future__ import annotations

from pathlib import Path

import psycopg
from bench.dataset import DatasetSpec, load_dataset

from diarist.accounts.personal_data import USER_EMAIL, PersonalData
from diarist.db.provision import DatabaseUrls, libpq_url
from tests.conftest import make_settings


def test_a_loaded_dataset_is_consistent(fresh_db: DatabaseUrls, tmp_path: Path) -> None:
    settings = make_settings(fresh_db, tmp_path)
    users, _report = load_dataset(
        libpq_url(fresh_db.owner), DatasetSpec(users=2, entries_per_user=15, heavy_entries=20),
        settings,
    )  # fmt: skip
    with psycopg.connect(libpq_url(fresh_db.system), autocommit=True) as conn:
        usage = conn.execute(
            "SELECT (SELECT coalesce(sum(usage_count), 0) FROM tags),"
            " (SELECT count(*) FROM entry_tags)"
        ).fetchone()
        pending = conn.execute("SELECT count(*) FROM vocabulary_changes").fetchone()
        counted = conn.execute("SELECT coalesce(sum(entry_count), 0) FROM user_words").fetchone()
        recounted = conn.execute(
            "SELECT count(*) FROM entries e, unnest(journal_words(e.content)) w"
        ).fetchone()
        sealed = conn.execute("SELECT id, email_sealed FROM users").fetchall()
    assert usage is not None
    assert usage[0] == usage[1] > 0, "each link counted once"
    assert pending == (0,), "no word left to fold: the load counted them"
    assert counted == recounted
    personal = PersonalData.from_settings(settings)
    emails = {personal.open(USER_EMAIL, bytes(value)) for _, value in sealed}
    assert emails == {f"bench-{user.index}@example.org" for user in users}
