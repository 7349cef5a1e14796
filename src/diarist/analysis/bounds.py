"""What the models read of an entry: all of it up to a limit, beyond that evenly spaced
excerpts of it, so that one very long entry (a pasted book, within the entry size limit) costs
what a long diary entry does instead of minutes and gigabytes, and still speaks for the whole.
"""

from __future__ import annotations

# About 4,000 words: the longest diary entries are read whole.
MAX_ANALYSED_CHARS = 24_000
EXCERPTS = 8


def analysed_text(text: str) -> str:
    """`text` itself when it is at most MAX_ANALYSED_CHARS long; otherwise EXCERPTS excerpts
    of equal length from its start to its end, cut between words where the text has spaces,
    joined by blank lines (at most MAX_ANALYSED_CHARS characters in all)."""
    if len(text) <= MAX_ANALYSED_CHARS:
        return text
    size = (MAX_ANALYSED_CHARS - 2 * (EXCERPTS - 1)) // EXCERPTS
    step = (len(text) - size) / (EXCERPTS - 1)
    excerpts = []
    for number in range(EXCERPTS):
        start = round(number * step)
        excerpt = text[start : start + size]
        if start > 0 and not text[start - 1].isspace():
            excerpt = _after_first_space(excerpt)
        if start + size < len(text) and not text[start + size].isspace():
            excerpt = _before_last_space(excerpt)
        excerpts.append(excerpt.strip())
    return "\n\n".join(excerpts)


def _after_first_space(excerpt: str) -> str:
    _head, space, rest = excerpt.partition(" ")
    return rest if space and rest else excerpt


def _before_last_space(excerpt: str) -> str:
    rest, space, _tail = excerpt.rpartition(" ")
    return rest if space and rest else excerpt
