"""Plain text derived from each recognised raw_data shape."""

from __future__ import annotations

from typing import Any

import pytest

from diarist.journal.content import derive, reading_minutes
from diarist.journal.errors import InvalidRawData


def test_markdown_loses_its_markup() -> None:
    derived = derive(
        {
            "format": "markdown",
            "text": "# Sunday\n\nA **long** walk to [the lake](http://x.org).\n\n- bread\n- `tea`",
        }
    )
    assert derived.format == "markdown"
    assert derived.content == "Sunday\nA long walk to the lake.\nbread\ntea"
    assert "http" not in derived.content
    assert derived.word_count == 9


def test_markdown_line_breaks_keep_words_apart() -> None:
    """A single newline (a soft break, as Day One and jrnl write lines), a hard break and an
    inline `<br>` end a line of the text; the words on either side stay two words. An image's
    alt text is text too, without its markup."""
    text = "walked home\nrain all day  \nsoup\\\nbed ![the **lake**](x.jpg) tea<br>cake"
    derived = derive({"format": "markdown", "text": text})
    assert derived.content == "walked home\nrain all day\nsoup\nbed the lake tea\ncake"
    assert derived.word_count == 11


def test_editorjs_line_breaks_keep_words_apart() -> None:
    """EditorJS writes a line break inside a block as `<br>`: a line break, not glue; other
    inline tags go without a trace (`un<b>believ</b>able` is one word)."""
    text = "rain<br>soup un<b>believ</b>able<BR/>tea<track>s<hr>end"
    block = {"id": "a", "type": "paragraph", "data": {"text": text}}
    derived = derive({"blocks": [block]})
    assert derived.content == "rain\nsoup unbelievable\nteas\nend"
    assert derived.word_count == 5


def test_editorjs_blocks() -> None:
    raw = {
        "time": 1700000000,
        "blocks": [
            {"id": "a", "type": "header", "data": {"text": "Trip", "level": 2}},
            {"id": "b", "type": "paragraph", "data": {"text": "We <b>swam</b> &amp; ate."}},
            {"id": "c", "type": "list",
             "data": {"style": "unordered", "items": ["sun", {"content": "sea", "items": []}]}},
            {"id": "d", "type": "checklist",
             "data": {"items": [{"text": "pack", "checked": True}]}},
            {"id": "e", "type": "table", "data": {"content": [["a", "b"], ["c", "d"]]}},
            {"id": "f", "type": "image", "data": {"file": {"url": "x.png"}, "caption": "beach"}},
        ],
        "version": "2.28",
    }  # fmt: skip
    derived = derive(raw)
    assert derived.format == "editorjs"
    assert derived.content.splitlines()[:4] == ["Trip", "We swam & ate.", "sun", "sea"]
    assert "beach" in derived.content
    assert "1700000000" not in derived.content


@pytest.mark.parametrize(
    "blocks",
    [
        "not a list",
        [{"id": "a", "type": "paragraph"}],
        [{"type": "paragraph", "data": {}}],
        [{"id": "a", "type": 3, "data": {}}],
        [{"id": "a", "type": "paragraph", "data": "text"}],
        ["block"],
    ],
)
def test_bad_editorjs_is_refused(blocks: Any) -> None:
    with pytest.raises(InvalidRawData):
        derive({"blocks": blocks})


def test_plain_text_and_unknown_json() -> None:
    assert derive({"text": "just words"}).format == "text"
    assert derive({"format": "text", "text": "x", "mood": "ok"}).content == "x"
    other = derive({"dayone": {"text": "imported entry", "tags": ["a"]}, "starred": True, "n": 3})
    assert other.format == "json"
    assert other.content == "imported entry\na"
    with pytest.raises(InvalidRawData):
        derive({"format": "markdown", "text": 3})
    with pytest.raises(InvalidRawData):
        derive({"format": "text"})


def test_deep_nesting_is_refused() -> None:
    value: dict[str, Any] = {"x": "leaf"}
    for _ in range(40):
        value = {"x": value}
    with pytest.raises(InvalidRawData):
        derive(value)


def test_reading_minutes() -> None:
    assert [reading_minutes(n) for n in (0, 1, 200, 500)] == [0, 1, 1, 2]


def test_content_hash_follows_the_text_not_the_shape() -> None:
    assert (
        derive({"text": "same"}).content_hash
        == derive({"format": "text", "text": "same"}).content_hash
    )
    assert derive({"text": "same"}).content_hash != derive({"text": "other"}).content_hash
