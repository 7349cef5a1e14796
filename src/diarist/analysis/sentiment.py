"""Sentiment: VADER per sentence, blended with where the text's embedding lies between
positive and negative prototypes (VADER alone misreads long, mixed diary text)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from diarist.analysis.embeddings import Embedder, Vectors

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
NEUTRAL_BAND = 0.05
# The blend was chosen on the labelled sentences in tests/analysis (see docs/analysis.md).
VADER_WEIGHT = 0.4

_POSITIVE = (
    "I am happy and grateful today.",
    "This was a wonderful, joyful day.",
    "I feel calm, content and loved.",
    "Everything went well and I am proud of it.",
    "I had a great time with friends and laughed a lot.",
    "I am excited and hopeful about what comes next.",
)
_NEGATIVE = (
    "I am sad and lonely today.",
    "This was an awful, painful day.",
    "I feel anxious, angry and exhausted.",
    "Everything went wrong and I am ashamed of it.",
    "I argued with friends and cried a lot.",
    "I am worried and hopeless about what comes next.",
)


@dataclass(frozen=True)
class Sentiment:
    compound: float  # -1 .. 1
    label: str  # positive | negative | neutral
    confidence: float  # 0 .. 1
    vader: float
    semantic: float


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


class SentimentModel:
    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        prototypes = embedder.embed([*_POSITIVE, *_NEGATIVE])
        self._positive = prototypes[: len(_POSITIVE)].mean(axis=0)
        self._negative = prototypes[len(_POSITIVE) :].mean(axis=0)

    def vader_score(self, text: str) -> float:
        """Mean VADER compound over sentences that carry any sentiment."""
        scores = [_vader().polarity_scores(part)["compound"] for part in _SENTENCE.split(text)]
        scores = [score for score in scores if score != 0.0]
        return float(np.mean(scores)) if scores else 0.0

    def semantic_score(self, vector: Vectors) -> float:
        """How much closer to the positive than the negative prototypes, scaled to -1..1."""
        difference = float(vector @ self._positive - vector @ self._negative)
        return float(np.tanh(difference * 8))

    def score(self, text: str, vector: Vectors) -> Sentiment:
        vader = self.vader_score(text)
        semantic = self.semantic_score(vector)
        compound = VADER_WEIGHT * vader + (1 - VADER_WEIGHT) * semantic
        if compound > NEUTRAL_BAND:
            label = "positive"
        elif compound < -NEUTRAL_BAND:
            label = "negative"
        else:
            label = "neutral"
        # Agreement of the two signals and distance from neutral make a result trustworthy.
        agreement = 1.0 if vader * semantic >= 0 else 0.5
        confidence = round(min(1.0, abs(compound) * 1.5 + 0.25) * agreement, 3)
        return Sentiment(round(compound, 4), label, confidence, round(vader, 4), round(semantic, 4))
