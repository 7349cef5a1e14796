"""Emotions (Plutchik's eight) by zero-shot similarity to prototype phrases: no lexicon with a
research-only licence, only the embedding model."""

from __future__ import annotations

import numpy as np

from diarist.analysis.embeddings import Embedder, Vectors

PROTOTYPES: dict[str, tuple[str, ...]] = {
    "joy": ("I feel happy and cheerful.", "What a delightful, fun day.", "I laughed with joy."),
    "sadness": ("I feel sad and down.", "I miss them and I cried.", "A heavy, gloomy day."),
    "anger": ("I am furious and annoyed.", "This makes me so angry.", "I shouted in rage."),
    "fear": ("I am scared and anxious.", "I am afraid something bad will happen.",
             "My heart raced with worry."),
    "surprise": ("I did not expect that at all.", "What a surprise, I was astonished.",
                 "Suddenly everything changed."),
    "disgust": ("That was disgusting and gross.", "I felt revolted and sick.",
                "I am repelled by their behaviour."),
    "trust": ("I feel safe and I trust them.", "I can rely on my friends.",
              "They were honest and supportive."),
    "anticipation": ("I am looking forward to tomorrow.", "I can't wait for the trip.",
                     "Planning what comes next excites me."),
}  # fmt: skip
EMOTIONS = tuple(PROTOTYPES)
TEMPERATURE = 0.05


class EmotionModel:
    def __init__(self, embedder: Embedder) -> None:
        centroids = [embedder.embed(list(phrases)).mean(axis=0) for phrases in PROTOTYPES.values()]
        matrix = np.stack(centroids)
        self._centroids = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def score(self, vector: Vectors) -> dict[str, float]:
        """A distribution over the eight emotions (sums to 1)."""
        similarities = self._centroids @ vector
        weights = np.exp((similarities - similarities.max()) / TEMPERATURE)
        shares = weights / weights.sum()
        return {name: round(float(share), 4) for name, share in zip(EMOTIONS, shares, strict=True)}
