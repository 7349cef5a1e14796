"""Deterministic, realistic-looking journal text (no randomness across runs)."""

from __future__ import annotations

import random

_OPENINGS = [
    "Woke up early and",
    "Slow morning;",
    "After work",
    "Late at night",
    "On the train home",
    "Rainy afternoon, so",
    "Sunday, and",
    "Couldn't sleep, so",
]
_ACTIVITIES = [
    "walked along the river",
    "called my sister",
    "worked on the garden",
    "read a few chapters",
    "cooked dinner for friends",
    "went for a long run",
    "cleaned the whole flat",
    "sat in the park with coffee",
    "wrote letters",
    "visited grandma",
]
_FEELINGS = [
    "I felt calm and grateful",
    "I was tired but content",
    "I felt anxious about work",
    "it made me unexpectedly sad",
    "I laughed more than in weeks",
    "I felt restless",
    "everything seemed lighter",
    "I was angry at myself",
    "I felt hopeful again",
]
_DETAILS = [
    "The light over the water was soft and gold.", "The neighbours were arguing again.",
    "The bread finally rose the way it should.", "My knee hurt on the stairs.",
    "There is a deadline on Friday that I keep avoiding.", "The tomatoes are turning red.",
    "Sam sent a photo from Lisbon.", "The train was late and crowded.",
    "I found an old letter from my father.", "The cat slept on my notes all evening.",
]  # fmt: skip


def entry_text(seed: int, min_words: int = 80, max_words: int = 250) -> str:
    """One diary entry of 80-250 words, the same for the same seed."""
    rng = random.Random(seed)
    target = rng.randint(min_words, max_words)
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < target:
        sentences.append(
            f"{rng.choice(_OPENINGS)} I {rng.choice(_ACTIVITIES)}, and {rng.choice(_FEELINGS)}."
        )
        sentences.append(rng.choice(_DETAILS))
    return " ".join(sentences)
