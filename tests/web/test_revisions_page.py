"""An entry's earlier versions on the web: listed, shown as they were, and brought back as a
new version (the journal's revision service)."""

from __future__ import annotations

import re

import httpx

from tests.web.pages import hidden_fields, signed_up_in_browser, submit, written


async def _edit(client: httpx.AsyncClient, path: str, text: str) -> None:
    response = await submit(client, f"{path}/edit", f"{path}/edit", {"text": text})
    assert response.status_code == 303, response.text


async def test_earlier_versions_are_shown_and_brought_back(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    path = await written(client, title="Draft", text="The **first** words.")
    assert "Earlier versions" not in (await client.get(path)).text
    await _edit(client, path, "The second words.")
    await _edit(client, path, "The third words.")
    assert "Earlier versions" in (await client.get(path)).text
    listed = await client.get(f"{path}/revisions")
    assert listed.status_code == 200
    assert re.findall(r"revisions\?version=(\d+)", listed.text) == ["2", "1"]
    first = await client.get(f"{path}/revisions", params={"version": 1})
    assert "<strong>first</strong>" in first.text
    restore = re.search(r'action="([^"]+/restore)"', first.text)
    assert restore
    fields = hidden_fields(first.text)
    assert fields["current"] == "3"
    done = await client.post(restore.group(1), data=fields)
    assert done.status_code == 303
    entry = (await client.get(path)).text
    assert "<strong>first</strong>" in entry
    stale = await client.post(restore.group(1), data=fields)  # version 3 is no longer current
    assert stale.status_code == 412
    assert 'role="alert"' in stale.text
    forged = await client.post(restore.group(1), data={**fields, "csrf": "x"})
    assert forged.status_code == 403
    missing = await client.get(
        f"{path}/revisions", params={"version": 99}, headers={"Accept": "text/html"}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
