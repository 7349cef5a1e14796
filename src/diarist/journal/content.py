"""From an entry's raw_data (any JSON object) to the plain text that search and analysis read.

Recognised shapes:
- Markdown: `{"format": "markdown", "text": "..."}` — rendered to its words (no markup);
- EditorJS: `{"blocks": [{"id", "type", "data"}, ...]}` — each block validated, text per type;
- plain text: `{"format": "text", "text": "..."}` or `{"text": "..."}`;
- anything else: kept as is; its string leaves (not its keys) become the text.

A text field of a recognised shape (`text`; an EditorJS block's `text`, `title`, `message`,
`caption`, `code`, a list item's `content` or `text`) that holds something other than a string
(or null, in a block) is refused, not turned into words: `{"text": 123}` is a client's mistake.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from diarist.journal.errors import InvalidRawData

_TAG = re.compile(r"<[^>]+>")
# Inline HTML that ends a line (EditorJS writes a line break inside a block as `<br>`): a
# line break in the text, so that the words on either side stay apart. Other tags (`<b>`,
# `<a>`, `<mark>`) go without a trace: `un<b>believ</b>able` is one word.
_LINE_TAG = re.compile(r"<(?:br|hr|/?(?:p|div|li|h[1-6]|blockquote|tr))\b[^>]*>", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKDOWN = MarkdownIt("commonmark").enable("table").enable("strikethrough")
WORDS_PER_MINUTE = 200
MAX_DEPTH = 32
_TEXT = "raw_data.text"


@dataclass(frozen=True)
class Derived:
    format: str
    content: str
    word_count: int
    content_hash: bytes


def _inline_text(children: list[Token]) -> str:
    """What a Markdown inline run adds to the text: its words (an image's by its alt text,
    without markup); a line break (soft, hard or an inline `<br>`) keeps the words on either
    side apart."""
    parts = []
    for child in children:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
        elif child.type in {"softbreak", "hardbreak"} or (
            child.type == "html_inline" and _LINE_TAG.fullmatch(child.content.strip())
        ):
            parts.append("\n")
    return "".join(parts)


def _markdown_text(source: str) -> str:
    lines: list[str] = []

    def walk(tokens: list[Token]) -> None:
        for token in tokens:
            if token.type == "inline" and token.children is not None:
                lines.append(_inline_text(token.children))
            elif token.type in {"fence", "code_block"}:
                lines.append(token.content.rstrip("\n"))

    walk(_MARKDOWN.parse(source))
    return "\n".join(line for line in lines if line.strip())


def _inline_html(value: str) -> str:
    return html.unescape(_TAG.sub("", _LINE_TAG.sub("\n", value)))


def _strings(value: Any, depth: int = 0) -> list[str]:
    """Every string leaf of a JSON value, depth-limited."""
    if depth > MAX_DEPTH:
        raise InvalidRawData(f"raw_data is nested deeper than {MAX_DEPTH} levels.")
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item, depth + 1)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item, depth + 1)]
    return []


def _text_field(value: Any, where: str) -> str:
    """A block's text field: a string, or null/absent for none."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRawData(f"{where} must be a string.", field=f"raw_data.{where}")
    return value


def _list_items(items: Any, where: str, depth: int = 0) -> list[str]:
    if depth > MAX_DEPTH:
        raise InvalidRawData(f"raw_data is nested deeper than {MAX_DEPTH} levels.")
    texts: list[str] = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, str):
            texts.append(_inline_html(item))
        elif isinstance(item, dict):  # nested lists: {"content": ..., "items": [...]}
            at = f"{where}[{index}]"
            content = _text_field(item.get("content"), f"{at}.content")
            text = _text_field(item.get("text"), f"{at}.text")
            texts.append(_inline_html(content or text))
            texts.extend(_list_items(item.get("items"), f"{at}.items", depth + 1))
    return texts


def _block_text(block: dict[str, Any], where: str) -> list[str]:
    kind, data = block["type"], block["data"]
    if kind in {"paragraph", "header", "quote", "warning", "alert"}:
        keys = ("title", "text", "message", "caption")
        return [_inline_html(_text_field(data.get(key), f"{where}.data.{key}")) for key in keys]
    if kind in {"list", "checklist"}:
        return _list_items(data.get("items"), f"{where}.data.items")
    if kind == "code":
        return [_text_field(data.get("code"), f"{where}.data.code")]
    if kind == "table":
        rows = data.get("content")
        rows = rows if isinstance(rows, list) else []
        cells = [cell for row in rows if isinstance(row, list) for cell in row]
        return [_inline_html(cell) for cell in cells if isinstance(cell, str)]
    return [_inline_html(text) for text in _strings(data)]


def _editorjs_text(blocks: Any) -> str:
    if not isinstance(blocks, list):
        raise InvalidRawData("`blocks` must be a list of EditorJS blocks.")
    texts: list[str] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            raise InvalidRawData(f"blocks[{index}] must be an object.")
        missing = [key for key in ("id", "type", "data") if key not in block]
        if missing:
            raise InvalidRawData(f"blocks[{index}] lacks {', '.join(missing)}.")
        if not isinstance(block["type"], str) or not isinstance(block["data"], dict):
            raise InvalidRawData(f"blocks[{index}] needs a string `type` and an object `data`.")
        texts.extend(_block_text(block, f"blocks[{index}]"))
    return "\n".join(text for text in texts if text.strip())


def derive(raw_data: dict[str, Any]) -> Derived:
    """Recognise the format of raw_data and derive its plain text and counts."""
    fmt = raw_data.get("format")
    if fmt == "markdown":
        if not isinstance(raw_data.get("text"), str):
            raise InvalidRawData('Markdown raw_data needs a string "text".', field=_TEXT)
        kind, content = "markdown", _markdown_text(raw_data["text"])
    elif "blocks" in raw_data and fmt in (None, "editorjs"):
        kind, content = "editorjs", _editorjs_text(raw_data["blocks"])
    elif fmt in (None, "text") and "text" in raw_data and not isinstance(raw_data["text"], str):
        raise InvalidRawData('"text" must be a string.', field=_TEXT)
    elif (
        fmt in (None, "text")
        and isinstance(raw_data.get("text"), str)
        and (fmt == "text" or set(raw_data) <= {"text", "format"})
    ):
        kind, content = "text", raw_data["text"]
    elif fmt == "text":
        raise InvalidRawData('Plain-text raw_data needs a string "text".', field=_TEXT)
    else:
        kind, content = "json", "\n".join(text for text in _strings(raw_data) if text.strip())
    content = content.replace("\x00", "").strip()
    try:
        encoded = content.encode()
    except UnicodeEncodeError:  # a lone surrogate: JSON's "\ud800" parses, UTF-8 has none
        raise InvalidRawData("raw_data text holds an unpaired surrogate character.") from None
    return Derived(
        format=kind,
        content=content,
        word_count=len(_WORD.findall(content)),
        content_hash=hashlib.sha256(encoded).digest(),
    )


def reading_minutes(word_count: int) -> int:
    """Whole minutes at 200 words a minute, at least 1 for any text."""
    return 0 if word_count == 0 else max(1, round(word_count / WORDS_PER_MINUTE))


def excerpt(text: str, chars: int) -> str:
    """The first `chars` characters of `text`, cut back to a word boundary and marked "…"
    when the text goes on."""
    if len(text) <= chars:
        return text
    return text[:chars].rsplit(" ", 1)[0] + "…"
