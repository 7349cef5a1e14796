"""The README's first steps work as written: each command of its `first-steps` block is read
from the README and sent to the real app (curl's method, URL, headers and body; `jq -r .name`
reads a field of the answer)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import httpx

_README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"<!-- first-steps -->\n```sh\n(.*?)```\n<!-- /first-steps -->", re.DOTALL)
_CAPTURE = re.compile(r"^(\w+)=\$\((curl .*) \| jq -r \.(\w+)\)$")
_ASSIGN = re.compile(r"^(\w+)=(\S+)$")
_SERVER = "http://127.0.0.1:8000"


def _commands() -> list[str]:
    found = _BLOCK.search(_README.read_text(encoding="utf-8"))
    assert found, "the README has its first-steps block"
    return found.group(1).replace("\\\n", " ").strip().splitlines()


def _substitute(command: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], command)


async def _curl(client: httpx.AsyncClient, command: str) -> httpx.Response:
    words = shlex.split(command)
    assert words[0] == "curl"
    method, url, headers, body = "GET", "", {}, None
    rest = iter(words[1:])
    for word in rest:
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(": ")
            headers[name] = value
        elif word == "-d":
            body = next(rest)
        elif word != "-s":
            url = word
    assert url.startswith(_SERVER), url
    content = body.encode() if body is not None else None
    if body is not None:
        json.loads(body)  # the README's bodies are JSON
    return await client.request(method, url.removeprefix(_SERVER), headers=headers, content=content)


async def test_the_first_steps_work_as_written(client: httpx.AsyncClient) -> None:
    variables: dict[str, str] = {}
    answers: list[Any] = []
    for line in _commands():
        if captured := _CAPTURE.match(line):
            name, command, field = captured.groups()
            response = await _curl(client, _substitute(command, variables))
            assert response.status_code < 300, response.text
            variables[name] = response.json()[field]
        elif assigned := _ASSIGN.match(line):
            variables[assigned.group(1)] = assigned.group(2)
        else:
            response = await _curl(client, _substitute(line, variables))
            assert response.status_code < 300, (line, response.text)
            answers.append(response.json())
    account, entry, timeline, search, token = answers
    assert account["email"] == "ada@example.org"
    assert entry["tags"] == ["walks"]
    assert [item["id"] for item in timeline["items"]] == [entry["id"]]
    assert [hit["id"] for hit in search["items"]] == [entry["id"]]
    assert token["scope"] == "read"
