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


# A longer tail of words, so that some searches match a handful of entries and others most of
# them (a real journal's vocabulary is Zipfian; the sentences above alone match nearly all).
_PLACES = [
    "Lisbon",
    "Porto",
    "Kyoto",
    "Oslo",
    "Marseille",
    "Tbilisi",
    "Montreal",
    "Valparaiso",
    "Reykjavik",
    "Trieste",
    "Granada",
    "Krakow",
    "Hobart",
    "Tallinn",
    "Ljubljana",
    "Bergen",
    "allotment",
    "harbour",
    "library",
    "bakery",
    "orchard",
    "lighthouse",
    "greenhouse",
    "monastery",
    "vineyard",
    "boathouse",
    "observatory",
    "laundrette",
    "conservatory",
]
_THINGS = [
    "accordion",
    "telescope",
    "sourdough",
    "watercolours",
    "crossword",
    "sketchbook",
    "kayak",
    "harmonica",
    "typewriter",
    "chessboard",
    "compost",
    "beehive",
    "lantern",
    "violin",
    "marmalade",
    "origami",
    "mandolin",
    "pottery",
    "embroidery",
    "woodcarving",
    "calligraphy",
    "birdwatching",
    "astronomy",
    "bouldering",
    "sailing",
    "knitting",
    "fermentation",
    "photography",
    "beekeeping",
    "carpentry",
    "jigsaw",
    "quilting",
    "ceramics",
    "mushrooms",
    "rhubarb",
    "lavender",
    "hedgehog",
    "kestrel",
    "heron",
    "otter",
    "dandelions",
    "snowdrops",
]
_PEOPLE = [
    "Amara",
    "Bjorn",
    "Chiara",
    "Dmitri",
    "Esther",
    "Farid",
    "Greta",
    "Hiroshi",
    "Ines",
    "Jonas",
    "Kalinda",
    "Lorcan",
    "Mireille",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosalind",
    "Soren",
    "Tamsin",
    "Ulrich",
    "Vesna",
    "Wilhelmina",
    "Ximena",
    "Yusuf",
    "Zofia",
]
_RARE_SENTENCES = [
    "{person} talked about {thing} for an hour.",
    "I keep thinking about the {place} in {city}.",
    "Spent the evening on {thing} with {person}.",
    "{person} wrote from {city}, full of news.",
    "Started reading about {thing} again.",
    "Remembered the {place} we found years ago.",
]
_TITLES = [
    "A quiet day",
    "Notes to self",
    "Morning pages",
    "Small wins",
    "Heavy head",
    "Weekend",
    "Long walk",
    "Family",
    "Work again",
    "Good news",
    "Restless",
    "Gratitude",
    "Letters",
    "Garden log",
    "Travel notes",
    "Rain",
    "Sunday thoughts",
    "Late night",
    "Old friends",
]
TAGS = [
    "work", "family", "health", "travel", "garden", "reading", "friends", "gratitude", "sleep",
    "exercise", "cooking", "music", "money", "therapy", "ideas", "weekend", "nature", "writing",
    "kids", "projects", "dreams", "anxiety", "goals", "home",
]  # fmt: skip
_CITIES = _PLACES[:16]
_SPOTS = _PLACES[16:]


def search_words() -> list[str]:
    """Words a search is drawn from: the common ones of every entry and the long tail."""
    common = ["river", "garden", "sister", "calm", "dinner", "park", "letters", "train", "grandma"]
    tail = [w.lower() for w in _PLACES + _THINGS + _PEOPLE]
    return common + tail


def journal_entry_text(seed: int, min_words: int = 80, max_words: int = 250) -> str:
    """An entry of 80-250 words mixing the everyday sentences with rarer names and things."""
    rng = random.Random(seed * 7919 + 1)
    target = rng.randint(min_words, max_words)
    sentences: list[str] = []
    words = 0
    while words < target:
        if rng.random() < 0.25:
            sentence = rng.choice(_RARE_SENTENCES).format(
                person=rng.choice(_PEOPLE),
                thing=rng.choice(_THINGS),
                place=rng.choice(_SPOTS),
                city=rng.choice(_CITIES),
            )
        elif rng.random() < 0.6:
            sentence = (
                f"{rng.choice(_OPENINGS)} I {rng.choice(_ACTIVITIES)}, and {rng.choice(_FEELINGS)}."
            )
        else:
            sentence = rng.choice(_DETAILS)
        sentences.append(sentence)
        words += len(sentence.split())
    return " ".join(sentences)


def entry_title(seed: int) -> str | None:
    """A short title for about half of the entries."""
    rng = random.Random(seed * 104729 + 3)
    return rng.choice(_TITLES) if rng.random() < 0.5 else None
