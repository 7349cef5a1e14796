"""The local models on small real inputs: sentiment sign, paraphrases, emotions, keywords,
integrity checks, and no network at all."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from diarist.analysis.embeddings import ModelIntegrityError, _checked, get_embedder
from diarist.analysis.keywords import extract_keywords
from diarist.analysis.local import LocalAnalyzer, get_local_analyzer
from tests.analysis.sentences import NEGATIVE, POSITIVE


@pytest.fixture(scope="module")
def analyzer() -> LocalAnalyzer:
    return get_local_analyzer(1)


def test_sentiment_sign_accuracy(analyzer: LocalAnalyzer) -> None:
    texts = POSITIVE + NEGATIVE
    assert len(texts) >= 100
    expected = [1] * len(POSITIVE) + [-1] * len(NEGATIVE)
    vectors = analyzer.embedder.embed(texts)
    scores = [analyzer.sentiment.score(t, v).compound for t, v in zip(texts, vectors, strict=True)]
    accuracy = np.mean([np.sign(s) == e for s, e in zip(scores, expected, strict=True)])
    vader_only = np.mean(
        [
            np.sign(analyzer.sentiment.vader_score(t)) == e
            for t, e in zip(texts, expected, strict=True)
        ]
    )
    assert accuracy >= 0.80
    assert accuracy > vader_only, "the blend must beat VADER alone to be worth it"


def test_embeddings_rank_paraphrases_above_unrelated(analyzer: LocalAnalyzer) -> None:
    pairs = [
        ("I walked along the river this morning.", "This morning I took a stroll by the river."),
        ("My grandmother is in hospital.", "Grandma was admitted to the hospital."),
        ("I could not sleep because of stress.", "Stress kept me awake all night."),
        ("We baked bread together.", "Together we made a loaf of bread."),
        ("The meeting at work went badly.", "The office meeting was a disaster."),
    ]
    firsts = analyzer.embedder.embed([a for a, _ in pairs])
    seconds = analyzer.embedder.embed([b for _, b in pairs])
    similarity = firsts @ seconds.T
    for row in range(len(pairs)):
        others = [similarity[row, col] for col in range(len(pairs)) if col != row]
        assert similarity[row, row] > max(others) + 0.1, pairs[row]
    assert firsts.shape == (5, 384)
    assert np.allclose(np.linalg.norm(firsts, axis=1), 1.0, atol=1e-5)


def test_long_texts_are_embedded_in_windows(analyzer: LocalAnalyzer) -> None:
    plants = ["roses", "tomatoes", "beans", "tulips", "lettuce", "herbs", "dahlias", "peas"]
    long_text = " ".join(
        f"On day {n} I watered the {plants[n % 8]} and pulled weeds in the garden."
        for n in range(120)
    )
    assert len(analyzer.embedder._windows(long_text)) > 3
    vector = analyzer.embedder.embed([long_text])[0]
    garden, taxes = analyzer.embedder.embed(
        ["Working in my vegetable garden.", "Filing the quarterly tax return."]
    )
    assert float(vector @ garden) > float(vector @ taxes) + 0.2


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("We laughed all evening, it was such a happy day.", "joy"),
        ("I miss her so much, I cried in the car.", "sadness"),
        ("I am terrified about the surgery tomorrow.", "fear"),
        ("He lied again and I was absolutely furious.", "anger"),
        ("I cannot wait for our trip next week!", "anticipation"),
    ],
)
def test_dominant_emotion(analyzer: LocalAnalyzer, text: str, emotion: str) -> None:
    scores = analyzer.emotions.score(analyzer.embedder.embed([text])[0])
    assert max(scores, key=lambda name: scores[name]) == emotion
    assert abs(sum(scores.values()) - 1) < 1e-3


def test_keywords() -> None:
    found = extract_keywords(
        "Spent the afternoon gardening. The tomatoes finally turned red "
        "and the garden smelled of rain."
    )
    words = [str(k["keyword"]) for k in found]
    assert any("tomatoes" in w for w in words)
    assert all(0 < float(k["relevance"]) <= 1 for k in found)
    assert extract_keywords("   ") == []


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelIntegrityError):
        _checked(fake, "0" * 64)


def test_analysis_needs_no_network(
    analyzer: LocalAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError("network is blocked in this test")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    result = analyzer.analyze("A quiet day by the sea. I felt calm and grateful.")
    assert {r.task_type for r in result.results} == {"sentiment", "emotions", "keywords"}
    sentiment = next(r for r in result.results if r.task_type == "sentiment")
    assert sentiment.data["label"] == "positive"
    assert sentiment.provider_info["provider"] == "local"
    assert get_embedder(1) is analyzer.embedder, "models are loaded once per process"
