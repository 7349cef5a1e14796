"""The `local` provider: every model runs in this process, offline."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from diarist.analysis.embeddings import Embedder, get_embedder
from diarist.analysis.emotions import EmotionModel
from diarist.analysis.keywords import extract_keywords
from diarist.analysis.results import Analysis, TaskResult
from diarist.analysis.sentiment import SentimentModel
from diarist.models.analysis import LOCAL_EMBEDDING_MODEL

PROVIDER = "local"
VERSION = "1"


class LocalAnalyzer:
    """Sentiment, emotions, keywords and the embedding of one text."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.sentiment = SentimentModel(embedder)
        self.emotions = EmotionModel(embedder)

    def _info(self, model: str, started: float) -> dict[str, Any]:
        return {
            "provider": PROVIDER,
            "model": model,
            "model_version": VERSION,
            "processing_time_ms": round((time.perf_counter() - started) * 1000, 2),
            "tokens_used": None,
            "cost_usd": 0.0,
            "request_id": None,
        }

    def analyze(self, text: str, language: str = "en") -> Analysis:
        started = time.perf_counter()
        vector = self.embedder.embed([text])[0]
        embedded = self._info(LOCAL_EMBEDDING_MODEL, started)

        started = time.perf_counter()
        sentiment = self.sentiment.score(text, vector)
        sentiment_result = TaskResult(
            "sentiment",
            {
                "compound": sentiment.compound,
                "label": sentiment.label,
                "vader": sentiment.vader,
                "semantic": sentiment.semantic,
            },
            sentiment.confidence,
            self._info(f"vader+{LOCAL_EMBEDDING_MODEL}", started)
            | {"embedding_ms": embedded["processing_time_ms"]},
        )

        started = time.perf_counter()
        scores = self.emotions.score(vector)
        dominant = max(scores, key=lambda name: scores[name])
        emotions_result = TaskResult(
            "emotions",
            {"scores": scores, "dominant": dominant},
            float(np.clip(scores[dominant], 0, 1)),
            self._info(f"zero-shot+{LOCAL_EMBEDDING_MODEL}", started),
        )

        started = time.perf_counter()
        keywords = extract_keywords(text, language)
        keywords_result = TaskResult(
            "keywords", {"keywords": keywords}, None, self._info("yake", started)
        )
        return Analysis(
            [sentiment_result, emotions_result, keywords_result], vector, LOCAL_EMBEDDING_MODEL
        )


_lock = threading.Lock()
_analyzers: dict[int, LocalAnalyzer] = {}


def get_local_analyzer(threads: int = 1) -> LocalAnalyzer:
    """The process's analyzer, models loaded once (in the job worker only)."""
    with _lock:
        if threads not in _analyzers:
            _analyzers[threads] = LocalAnalyzer(get_embedder(threads))
        return _analyzers[threads]
