"""The tags page: the tree with use counts, and creating, moving, recolouring, merging and
deleting tags through its forms (the journal's tag service, the API's models)."""

from __future__ import annotations

import re

import httpx

from tests.web.pages import hidden_fields, signed_up_in_browser, submit, written


def _tag_ids(html: str) -> dict[str, str]:
    """Each tag's id on the page, by name (from its change form)."""
    found = re.findall(
        r'action="/tags/([0-9a-f-]{36})" class="stack">.*?'
        r'name="name" required maxlength="64" value="([^"]*)"',
        html,
        re.S,
    )
    return {name: tag_id for tag_id, name in found}


async def test_the_tag_tree_and_its_changes(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    await written(client, text="By the river.", tags="walks, river")
    await written(client, text="Up the hill.", tags="walks")
    page = await client.get("/tags")
    assert page.status_code == 200
    assert "2 entries" in page.text
    assert "1 entry" in page.text
    made = await submit(client, "/tags", "/tags", {"name": "outdoors", "color": "#336699"})
    assert made.status_code == 303
    ids = _tag_ids((await client.get("/tags")).text)
    assert set(ids) == {"outdoors", "river", "walks"}
    fields = hidden_fields((await client.get("/tags")).text)
    moved = await client.post(
        f"/tags/{ids['walks']}",
        data={**fields, "name": "walks", "color": "#aa3300", "parent_id": ids["outdoors"]},
    )
    assert moved.status_code == 303
    html = (await client.get("/tags")).text
    assert re.search(r'class="depth-1">\s*<svg[^>]*><circle[^>]*fill="#aa3300"', html)
    walks_filter = await client.get("/", params={"tag": "outdoors"})
    assert "By the river." in walks_filter.text, "a parent finds its children's entries"
    merged = await client.post(f"/tags/{ids['river']}/merge", data={**fields, "into": ids["walks"]})
    assert merged.status_code == 303
    assert set(_tag_ids((await client.get("/tags")).text)) == {"outdoors", "walks"}
    gone = await client.post(f"/tags/{ids['outdoors']}/delete", data=fields)
    assert gone.status_code == 303
    assert set(_tag_ids((await client.get("/tags")).text)) == {"walks"}
    assert "By the river." in (await client.get("/", params={"tag": "walks"})).text


async def test_refused_tag_changes_say_why_and_change_nothing(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    await written(client, text="Tagged.", tags="walks")
    ids = _tag_ids((await client.get("/tags")).text)
    fields = hidden_fields((await client.get("/tags")).text)
    for data in (
        {"name": "walks", "color": "red"},
        {"name": "   "},
        {"name": "walks", "parent_id": "not-an-id"},
        {"name": "walks", "parent_id": ids["walks"]},
    ):
        response = await client.post(f"/tags/{ids['walks']}", data={**fields, **data})
        assert response.status_code in {400, 404, 409, 422}, data
        assert 'role="alert"' in response.text
    itself = await client.post(f"/tags/{ids['walks']}/merge", data={**fields, "into": ids["walks"]})
    assert itself.status_code == 422
    forged = await client.post(f"/tags/{ids['walks']}/delete", data={"csrf": "x"})
    assert forged.status_code == 403
    assert set(_tag_ids((await client.get("/tags")).text)) == {"walks"}
