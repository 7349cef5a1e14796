"""One very long entry costs what a long diary entry does: the models read at most
MAX_ANALYSED_CHARS of it, in excerpts from its start to its end."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from diarist.analysis import service as analysis_service
from diarist.analysis.bounds import EXCERPTS, MAX_ANALYSED_CHARS, analysed_text
from diarist.analysis.local import get_local_analyzer
from diarist.config import AnalysisSettings
from diarist.db.engine import Database
from tests.factories.accounts import signed_up, user_id_of
from tests.factories.journal import analyze_entries, create_entry

_WORDS = ["quiet", "harbour", "boats", "rain", "garden", "walk", "sister", "dinner", "happy"]


def _book(chars: int, seed: int = 7) -> str:
    rng = random.Random(seed)  # noqa: S311 (test text, not secrets)
    words: list[str] = []
    length = 0
    while length < chars:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def test_a_diary_entry_is_read_whole() -> None:
    text = _book(MAX_ANALYSED_CHARS - 10)
    assert analysed_text(text) is text


def test_a_book_is_read_in_excerpts_from_start_to_end() -> None:
    book = "Opening words. " + _book(1024 * 1024) + " Closing words."
    read = analysed_text(book)
    assert len(read) <= MAX_ANALYSED_CHARS
    assert read.startswith("Opening words.")
    assert read.endswith("Closing words.")
    excerpts = read.split("\n\n")
    assert len(excerpts) == EXCERPTS
    assert all(len(excerpt) > MAX_ANALYSED_CHARS // EXCERPTS - 20 for excerpt in excerpts)
    assert set(read.split()) <= set(book.split()), "excerpts are cut between words"


@given(st.text(min_size=1, max_size=60), st.integers(min_value=1, max_value=3))
def test_any_long_text_is_bounded(piece: str, times: int) -> None:
    """Any characters (spaces or none, surrogates aside), repeated past the limit."""
    text = piece * (times * MAX_ANALYSED_CHARS // len(piece) + 1)
    assert len(analysed_text(text)) <= MAX_ANALYSED_CHARS


async def test_a_one_mebibyte_entry_is_analysed(
    client: httpx.AsyncClient, database: Database
) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth, _book(1024 * 1024 - 4096))
    await analyze_entries(database, await user_id_of(client, me))
    shown = (await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)).json()
    assert shown["processing_status"] == "completed"
    assert {"sentiment", "emotions", "keywords"} <= set(shown["analysis"])


async def test_a_run_over_the_time_limit_fails_and_is_retried(
    client: httpx.AsyncClient, database: Database
) -> None:
    me = await signed_up(client)
    user_id = await user_id_of(client, me)
    entry = await create_entry(client, me.auth, _book(MAX_ANALYSED_CHARS))
    entry_id = uuid.UUID(entry["id"])
    hurried = AnalysisSettings(job_timeout_s=0.001)
    with pytest.raises(TimeoutError):
        await analysis_service.analyze_entry(
            database, get_local_analyzer(1), hurried, entry_id, user_id, attempt=1
        )
    shown = (await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)).json()
    assert shown["processing_status"] == "pending", "queued again, like any failure"
    assert shown["analysis"]["error"] == "TimeoutError: the run took longer than 0.001 s"
    assert shown["analysis"]["sentiment"] is None
    await analyze_entries(database, user_id)
    shown = (await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)).json()
    assert shown["processing_status"] == "completed"
