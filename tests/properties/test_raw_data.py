"""raw_data to text: any JSON object either derives or is an InvalidRawData (a 422), never
another exception; counts are never negative; the content hash depends on the content only."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from diarist.journal.content import Derived, derive
from diarist.journal.errors import InvalidRawData
from tests.properties import PROPERTIES

# Strings as JSON can hold them: NUL, lone surrogates ("\ud800" parses), markup.
_strings = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None), max_size=10),
    st.sampled_from(["\x00", "\ud800", "\udfff", "<b>x</b>", "&amp;", "# t", "`c`", "a\x00b"]),
    st.text(alphabet="[]()*_`>#-+!<|~ \n\t1.ab", max_size=300),  # markdown's corner cases
)
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    _strings,
)


def _json(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_strings, inner, max_size=4),
        max_leaves=20,
    )


_values = _json(_leaves)
_TEXT_KEYS = ["text", "title", "message", "caption", "code", "content", "items", "level"]
_BLOCK_TYPES = ["paragraph", "header", "quote", "warning", "alert", "list", "checklist"]
_BLOCK_TYPES += ["code", "table", "image", "delimiter", "embed"]

_items = st.recursive(
    _strings | st.dictionaries(st.sampled_from(["content", "text"]), _values, max_size=2),
    lambda inner: st.fixed_dictionaries(
        {"content": _strings | _values}, optional={"items": st.lists(inner, max_size=3)}
    ),
    max_leaves=10,
)
_block_data = st.dictionaries(
    st.sampled_from(_TEXT_KEYS), st.one_of(_values, st.lists(_items, max_size=4)), max_size=4
)
_blocks = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "id": _strings,
                "type": st.sampled_from(_BLOCK_TYPES) | _values,
                "data": _block_data | _values,
            }
        ),
        _values,
    ),
    max_size=5,
)
# Objects shaped like the recognised formats (and near misses), and any object at all.
raw_data = st.one_of(
    st.dictionaries(_strings, _values, max_size=5),
    st.fixed_dictionaries(
        {},
        optional={
            "format": st.sampled_from(["markdown", "text", "editorjs", "html"]) | _values,
            "text": _strings | _values,
            "blocks": _blocks | _values,
            "time": _values,
        },
    ),
    st.integers(0, 200).map(lambda depth: _nested(depth)),
)


def _nested(depth: int) -> dict[str, Any]:
    value: Any = "deep"
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return {"blocks": [{"id": "x", "type": "list", "data": {"items": [value]}}], "more": value}


def _derived(raw: dict[str, Any]) -> Derived | None:
    try:
        return derive(raw)
    except InvalidRawData:
        return None


@settings(PROPERTIES, max_examples=1500)
@given(raw=raw_data)
@example(raw={"text": "\ud800"})  # was a UnicodeEncodeError
@example(raw={"format": "markdown", "text": "[" * 5000 + ">" * 5000})
def test_any_object_derives_or_is_invalid(raw: dict[str, Any]) -> None:
    derived = _derived(raw)
    if derived is None:
        return
    assert derived.format in {"markdown", "editorjs", "text", "json"}
    assert derived.word_count >= 0
    assert (derived.word_count == 0) == (not any(c.isalnum() or c == "_" for c in derived.content))
    assert "\x00" not in derived.content
    assert derived.content == derived.content.strip()


@settings(PROPERTIES, max_examples=500)
@given(raw=raw_data)
def test_the_content_hash_is_the_hash_of_the_content(raw: dict[str, Any]) -> None:
    derived = _derived(raw)
    if derived is None:
        return
    again = derive(copy.deepcopy(raw))
    assert again == derived
    assert derived.content_hash == hashlib.sha256(derived.content.encode()).digest()


@settings(PROPERTIES, max_examples=300)
@given(raw=raw_data)
def test_a_json_round_trip_derives_the_same(raw: dict[str, Any]) -> None:
    """What a client sends and what it sends again after reading it back derive alike."""
    derived = _derived(raw)
    if derived is None:
        return
    assert derive(json.loads(json.dumps(raw))) == derived
