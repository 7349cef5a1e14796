"""Tags: names (case folded in any script), colours, hierarchy without cycles (a merge into a
descendant too), relationships (deleted only through their own tags), usage counts, merge."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def _tag(client: httpx.AsyncClient, me: Account, name: str, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tags", json={"name": name, **fields}, headers=me.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _problem(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


async def test_create_and_normalise(client: httpx.AsyncClient, me: Account) -> None:
    tag = await _tag(client, me, "  Morning   Pages ", color="#FFAA00", icon="sun", description="d")
    assert (tag["name"], tag["color"], tag["usage_count"]) == ("Morning Pages", "#ffaa00", 0)
    duplicate = await client.post("/api/v1/tags", json={"name": "morning pages"}, headers=me.auth)
    assert _problem(duplicate) == (409, "tag_exists")
    other = await signed_up(client)
    assert (
        await client.post("/api/v1/tags", json={"name": "Morning Pages"}, headers=other.auth)
    ).status_code == 201


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x", "color": "red"},
        {"name": "x", "color": "#12345"},
        {"name": ""},
        {"name": "x" * 65},
        {"name": "x", "icon": "i" * 33},
        {"name": "x", "weight": 1},
    ],
)
async def test_bad_tags_are_refused(
    client: httpx.AsyncClient, me: Account, payload: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/tags", json=payload, headers=me.auth)
    assert _problem(response) == (422, "validation_error")
    assert (await client.get("/api/v1/tags", headers=me.auth)).json() == []


async def test_hierarchy_refuses_cycles(client: httpx.AsyncClient, me: Account) -> None:
    a = await _tag(client, me, "a")
    b = await _tag(client, me, "b", parent_id=a["id"])
    c = await _tag(client, me, "c", parent_id=b["id"])
    for tag, parent in ((a, c), (a, b), (a, a)):
        response = await client.patch(
            f"/api/v1/tags/{tag['id']}", json={"parent_id": parent["id"]}, headers=me.auth
        )
        assert _problem(response) == (422, "tag_cycle")
    root = await client.patch(f"/api/v1/tags/{c['id']}", json={"parent_id": None}, headers=me.auth)
    assert root.json()["parent_id"] is None
    missing = await client.post(
        "/api/v1/tags", json={"name": "d", "parent_id": "00000000-0000-7000-8000-000000000000"},
        headers=me.auth,
    )  # fmt: skip
    assert _problem(missing) == (422, "invalid_tag")
    # Deleting a parent makes its children roots.
    await client.delete(f"/api/v1/tags/{a['id']}", headers=me.auth)
    assert (await client.get(f"/api/v1/tags/{b['id']}", headers=me.auth)).json()[
        "parent_id"
    ] is None


async def test_rename_keeps_assignments(client: httpx.AsyncClient, me: Account) -> None:
    entry = await create_entry(client, me.auth, tags=["runing"])
    tag = (await client.get("/api/v1/tags", headers=me.auth)).json()[0]
    renamed = await client.patch(
        f"/api/v1/tags/{tag['id']}", json={"name": "Running"}, headers=me.auth
    )
    assert renamed.json()["name"] == "Running"
    fetched = await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)
    assert fetched.json()["tags"] == ["Running"]
    await _tag(client, me, "taken")
    clash = await client.patch(f"/api/v1/tags/{tag['id']}", json={"name": "TAKEN"}, headers=me.auth)
    assert _problem(clash) == (409, "tag_exists")


async def test_merge_moves_entries_children_and_relationships(
    client: httpx.AsyncClient, me: Account
) -> None:
    one = await create_entry(client, me.auth, tags=["jog"])
    both = await create_entry(client, me.auth, tags=["jog", "run"])
    tags = {t["name"]: t for t in (await client.get("/api/v1/tags", headers=me.auth)).json()}
    child = await _tag(client, me, "trail", parent_id=tags["jog"]["id"])
    other = await _tag(client, me, "health")
    await client.post(
        f"/api/v1/tags/{tags['jog']['id']}/relationships",
        json={"related_tag_id": other["id"], "kind": "related"}, headers=me.auth,
    )  # fmt: skip
    merged = await client.post(
        f"/api/v1/tags/{tags['jog']['id']}/merge", json={"into": tags["run"]["id"]}, headers=me.auth
    )
    assert merged.status_code == 200
    assert merged.json()["usage_count"] == 2
    for entry in (one, both):
        got = await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)
        assert got.json()["tags"] == ["run"]
    assert (await client.get(f"/api/v1/tags/{child['id']}", headers=me.auth)).json()[
        "parent_id"
    ] == tags["run"]["id"]
    links = (
        await client.get(f"/api/v1/tags/{tags['run']['id']}/relationships", headers=me.auth)
    ).json()
    assert [(link["related_tag_id"], link["kind"]) for link in links] == [(other["id"], "related")]
    gone = await client.get(f"/api/v1/tags/{tags['jog']['id']}", headers=me.auth)
    assert _problem(gone) == (404, "tag_not_found")
    itself = await client.post(
        f"/api/v1/tags/{tags['run']['id']}/merge", json={"into": tags["run"]["id"]}, headers=me.auth
    )
    assert _problem(itself) == (422, "invalid_tag")


async def test_relationships(client: httpx.AsyncClient, me: Account) -> None:
    a = await _tag(client, me, "calm")
    b = await _tag(client, me, "peaceful")
    url = f"/api/v1/tags/{a['id']}/relationships"
    made = await client.post(
        url, json={"related_tag_id": b["id"], "kind": "synonym", "strength": 0.9}, headers=me.auth
    )
    assert made.status_code == 201
    assert made.json()["strength"] == 0.9
    again = await client.post(
        url, json={"related_tag_id": b["id"], "kind": "synonym"}, headers=me.auth
    )
    assert _problem(again) == (409, "relationship_exists")
    for bad in ({"related_tag_id": a["id"], "kind": "related"},):
        assert _problem(await client.post(url, json=bad, headers=me.auth)) == (422, "invalid_tag")
    for bad in (
        {"related_tag_id": b["id"], "kind": "twin"},
        {"related_tag_id": b["id"], "kind": "related", "strength": 1.5},
    ):
        assert _problem(await client.post(url, json=bad, headers=me.auth)) == (
            422,
            "validation_error",
        )
    listed = (await client.get(f"/api/v1/tags/{b['id']}/relationships", headers=me.auth)).json()
    assert len(listed) == 1
    deleted = await client.delete(f"{url}/{made.json()['id']}", headers=me.auth)
    assert deleted.status_code == 204
    assert _problem(await client.delete(f"{url}/{made.json()['id']}", headers=me.auth)) == (
        404,
        "relationship_not_found",
    )


async def test_tag_search_tolerates_typos(client: httpx.AsyncClient, me: Account) -> None:
    for name in ("gardening", "garden party", "running", "reading"):
        await _tag(client, me, name)
    found = (await client.get("/api/v1/tags", params={"q": "gardning"}, headers=me.auth)).json()
    assert found[0]["name"] == "gardening"
    prefix = (await client.get("/api/v1/tags", params={"q": "gar"}, headers=me.auth)).json()
    assert {t["name"] for t in prefix} == {"gardening", "garden party"}
    bad = await client.get("/api/v1/tags", params={"sort": "name"}, headers=me.auth)
    assert _problem(bad) == (422, "validation_error")


async def test_unicode_tag_names(client: httpx.AsyncClient, me: Account) -> None:
    entry = await create_entry(client, me.auth, tags=["İstanbul", "ΟΔΟΣ"])
    assert sorted(entry["tags"]) == sorted(["İstanbul", "ΟΔΟΣ"])
    # The database folds case: "İSTANBUL" is the tag "İstanbul", not a new one.
    again = await create_entry(client, me.auth, tags=["İSTANBUL", "ΟΔΟΣ"])
    assert sorted(again["tags"]) == sorted(["İstanbul", "ΟΔΟΣ"])
    tags = (await client.get("/api/v1/tags", headers=me.auth)).json()
    assert {(t["name"], t["usage_count"]) for t in tags} == {("ΟΔΟΣ", 2), ("İstanbul", 2)}


async def test_merge_into_a_descendant(client: httpx.AsyncClient, me: Account) -> None:
    async def tag(name: str, parent: str | None = None) -> str:
        body = {"name": name, **({"parent_id": parent} if parent else {})}
        made = await client.post("/api/v1/tags", json=body, headers=me.auth)
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    root = await tag("root")
    a1 = await tag("a1", root)
    a2 = await tag("a2", a1)
    a3 = await tag("a3", a2)
    merged = await client.post(f"/api/v1/tags/{a1}/merge", json={"into": a3}, headers=me.auth)
    assert merged.status_code == 200
    assert merged.json()["parent_id"] == root, "the target takes the source's place"
    child = (await client.get(f"/api/v1/tags/{a2}", headers=me.auth)).json()
    assert child["parent_id"] == a3
    # No cycle: walking up from a2 reaches the root.
    seen, current = set(), a2
    while current:
        assert current not in seen
        seen.add(current)
        current = (await client.get(f"/api/v1/tags/{current}", headers=me.auth)).json()["parent_id"]


async def test_relationships_are_deleted_only_through_their_tags(
    client: httpx.AsyncClient, me: Account
) -> None:
    ids = []
    for name in ("p", "q", "r"):
        ids.append(
            (await client.post("/api/v1/tags", json={"name": name}, headers=me.auth)).json()["id"]
        )
    link = await client.post(
        f"/api/v1/tags/{ids[0]}/relationships",
        json={"related_tag_id": ids[1], "kind": "related"},
        headers=me.auth,
    )
    wrong = await client.delete(
        f"/api/v1/tags/{ids[2]}/relationships/{link.json()['id']}", headers=me.auth
    )
    assert _problem(wrong) == (404, "relationship_not_found")
    right = await client.delete(
        f"/api/v1/tags/{ids[1]}/relationships/{link.json()['id']}", headers=me.auth
    )
    assert right.status_code == 204
