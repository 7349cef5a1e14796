"""The web app through its forms: sign up, write, read, find, edit (and its conflict), sign
out; the session cookie and the CSRF token; user content shown inert; the security headers
of every page. Real database, real services, the pages as a browser would get them."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest
from fastapi import FastAPI

from tests.factories.accounts import PASSWORD
from tests.web.pages import (
    active_parts,
    alert_text,
    bearer,
    hidden_fields,
    signed_up_in_browser,
    submit,
    written,
)

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def test_a_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/", "/write", "/search?q=x", "/entries/00000000-0000-0000-0000-000000000000"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/")
    login = await client.get("/login")
    assert login.status_code == 200
    assert "csrf" in hidden_fields(login.text)


async def test_sign_up_write_read_find_and_sign_out(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    cookie = client.cookies.get("diarist_session")
    assert cookie
    assert "Nothing written yet" in (await client.get("/")).text
    path = await written(
        client, title="By the river", text="A long **walk** by the river.", tags="walks, River",
        mood="7",
    )  # fmt: skip
    entry = await client.get(path)
    assert entry.status_code == 200
    assert "<strong>walk</strong>" in entry.text
    assert 'class="tag">walks<' in entry.text
    assert 'class="tag">River<' in entry.text
    assert "mood 7/10" in entry.text
    timeline = await client.get("/")
    assert "By the river" in timeline.text
    assert "A long walk by the river." in timeline.text
    found = await client.get("/search", params={"q": "river", "mode": "keyword"})
    assert found.status_code == 200
    assert "By the river" in found.text
    assert "<mark>river</mark>" in found.text.lower()
    out = await submit(client, "/", "/logout", {})
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert (await client.get("/")).status_code == 303
    client.cookies.set("diarist_session", cookie)  # the old session's cookie: revoked
    assert (await client.get("/")).status_code == 303


async def test_the_session_cookie_is_http_only_and_same_site(client: httpx.AsyncClient) -> None:
    email = await signed_up_in_browser(client)
    client.cookies.clear()
    response = await submit(client, "/login", "/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "diarist_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie


async def test_signing_in_goes_back_to_the_page_asked_for_and_never_elsewhere(
    client: httpx.AsyncClient,
) -> None:
    email = await signed_up_in_browser(client)
    client.cookies.clear()
    for asked, landed in (("/search", "/search"), ("//evil.example/x", "/"), ("https://e.x", "/")):
        shown = await client.get("/login", params={"next": asked})
        response = await client.post(
            "/login", data={**hidden_fields(shown.text), "email": email, "password": PASSWORD}
        )
        assert response.headers["location"] == landed, asked


async def test_a_wrong_password_is_said_on_the_page(client: httpx.AsyncClient) -> None:
    email = await signed_up_in_browser(client)
    client.cookies.clear()
    response = await submit(client, "/login", "/login", {"email": email, "password": "nope-x"})
    assert response.status_code in {401, 422}
    assert 'role="alert"' in response.text
    assert f'value="{email}"' in response.text
    assert "diarist_session" not in client.cookies


async def test_forms_without_their_token_are_refused_and_write_nothing(
    client: httpx.AsyncClient,
) -> None:
    await signed_up_in_browser(client)
    for data in ({"text": "forged"}, {"text": "forged", "csrf": "0" * 64}):
        response = await client.post("/write", data=data)
        assert response.status_code == 403
        assert "Content-Security-Policy" in response.headers
    assert "forged" not in (await client.get("/")).text
    client.cookies.clear()
    forged = await client.post("/login", data={"email": "a@b.c", "password": "x", "csrf": "y"})
    assert forged.status_code == 403


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"text": "A day.", "mood": "11"}, "mood"),
        ({"text": "A day.", "mood": "seven"}, "mood"),
        ({"text": "A day.", "title": "t" * 501}, "title"),
        ({"text": "A day.", "entry_date": "yesterday"}, "entry_date"),
        ({"text": "A day.", "tags": "x" * 200}, "tags"),
    ],
)
async def test_a_refused_entry_is_shown_again_with_the_reason(
    client: httpx.AsyncClient, fields: dict[str, str], says: str
) -> None:
    await signed_up_in_browser(client)
    response = await submit(client, "/write", "/write", fields)
    assert response.status_code == 422, response.text
    assert says in alert_text(response.text)
    assert ">A day.</textarea>" in response.text, "what was written is kept"
    assert "Nothing written yet" in (await client.get("/")).text


async def test_user_content_is_shown_as_text(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    text = f"{XSS}\n\n[click](javascript:alert(2)) ![i](https://elsewhere.example/p.png)"
    path = await written(client, title=XSS, text=text, tags="safe")
    found = await client.get("/search", params={"q": "alert", "mode": "keyword"})
    assert f'href="{path}"' in found.text, "the search page shows it too"
    for page in (path, "/", f"{path}/edit", "/search?q=alert&mode=keyword"):
        html = (await client.get(page)).text
        assert active_parts(html) == [], page
    assert "&lt;script&gt;" in (await client.get(path)).text


async def test_an_edit_over_a_newer_version_shows_both_and_saves_mine_on_purpose(
    client: httpx.AsyncClient,
) -> None:
    await signed_up_in_browser(client)
    path = await written(client, text="The first draft.")
    first_tab = hidden_fields((await client.get(f"{path}/edit")).text)
    second_tab = dict(first_tab)
    saved = await client.post(f"{path}/edit", data={**first_tab, "text": "Theirs, saved first."})
    assert saved.status_code == 303
    conflict = await client.post(f"{path}/edit", data={**second_tab, "text": "Mine, later."})
    assert conflict.status_code == 409
    assert "Theirs, saved first." in conflict.text
    assert "Mine, later." in conflict.text
    mine = await client.post(
        f"{path}/edit", data={**hidden_fields(conflict.text), "text": "Mine, later."}
    )
    assert mine.status_code == 303
    assert "Mine, later." in (await client.get(path)).text


async def test_a_double_submit_writes_one_entry(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    fields = {**hidden_fields((await client.get("/write")).text), "text": "Only once."}
    first = await client.post("/write", data=fields)
    again = await client.post("/write", data=fields)
    assert first.headers["location"] == again.headers["location"]
    assert (await client.get("/")).text.count("Only once.") == 1


async def test_trash_from_the_entry_page(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    path = await written(client, text="To be thrown away.")
    response = await submit(client, path, f"{path}/delete", {})
    assert response.status_code == 303
    assert "To be thrown away." not in (await client.get("/")).text
    assert (await client.get(path)).status_code == 200, "the trash still shows it"


async def test_every_page_is_sent_with_its_protections_and_nothing_from_elsewhere(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    pages = ["/login", "/register"]
    await signed_up_in_browser(client)
    path = await written(client, text="Headers.")
    pages += ["/", "/write", "/search", "/search?q=headers", path, f"{path}/edit"]
    for page in pages:
        response = await client.get(page)
        assert response.status_code == 200, page
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp, page
        assert "script-src 'self'" in csp, page
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert active_parts(response.text) == [], page
    for asset in ("/static/app.css", "/static/app.js", "/static/icon.svg"):
        assert (await client.get(asset)).status_code == 200, asset


async def test_the_timeline_filters_and_pages_through_them(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    for day, mood, tag in (("01", "2", "work"), ("02", "8", "walks"), ("03", "9", "walks")):
        await written(
            client, text=f"Day {day}.", mood=mood, tags=tag, entry_date=f"2026-11-{day}T09:00"
        )
    walks = await client.get("/", params={"tag": "walks"})
    assert "Day 02." in walks.text
    assert "Day 03." in walks.text
    assert "Day 01." not in walks.text
    happy = (await client.get("/", params={"mood_min": "8", "to": "2026-11-03"})).text
    assert "Day 02." in happy
    assert "Day 03." not in happy
    assert "Day 01." not in happy
    nothing = await client.get("/", params={"tag": "never-used"})
    assert "No entry matches these filters." in nothing.text
    auth = bearer(client)
    for n in range(20):
        body = {"raw_data": {"text": f"Walk {n}."}, "tags": ["walks"], "entry_date": "2026-10-01"}
        assert (await client.post("/api/v1/entries", json=body, headers=auth)).is_success
    first = await client.get("/", params={"tag": "walks"})
    older = re.search(r'<a rel="next" href="(/\?[^"]+)"', first.text)
    assert older, "a second page"
    assert "tag=walks" in older.group(1)
    second = await client.get(unescape(older.group(1)))
    assert second.text.count('class="card"') == 2, "22 walks: 20, then 2"
    assert "Day 01." not in second.text
    bad = await client.get("/", params={"mood_min": "9", "mood_max": "2"})
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text
    for bad_value in ({"mood_min": "eleven"}, {"from": "someday"}):
        response = await client.get("/", params=bad_value)
        assert response.status_code == 422, bad_value
    assert (await client.get("/", params={"cursor": "garbage"})).status_code == 400


async def test_the_preview_shows_what_the_entry_page_will(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    text = "Some **bold** words.\n\n<script>alert(1)</script>"
    shown = await submit(client, "/write", "/preview", {"text": text})
    assert shown.status_code == 200
    assert "<strong>bold</strong>" in shown.text
    assert active_parts(shown.text) == []
    assert "&lt;script&gt;" in shown.text
    assert (await client.post("/preview", data={"text": text})).status_code == 403


async def test_the_writing_forms_offer_my_tags(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    path = await written(client, text="Tagged.", tags="walks, <b>odd</b>")
    for form in ("/write", f"{path}/edit"):
        html = (await client.get(form)).text
        assert '<option value="walks">' in html, form
        assert "<b>odd" not in html, form


async def test_installable_and_usable_offline(client: httpx.AsyncClient) -> None:
    manifest = await client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/"
    worker = await client.get("/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "__VERSION__" not in worker.text
    assert "/offline" in worker.text
    offline = await client.get("/offline")
    assert offline.status_code == 200, "no session needed: it is the service worker's page"
    assert "default-src 'self'" in offline.headers["content-security-policy"]
    assert 'action="/write"' in offline.text
    assert active_parts(offline.text) == []


async def _api_entry(client: httpx.AsyncClient, body: dict[str, object]) -> str:
    made = await client.post("/api/v1/entries", json=body, headers=bearer(client))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _api_raw(client: httpx.AsyncClient, entry_id: str) -> dict[str, object]:
    got = await client.get(f"/api/v1/entries/{entry_id}", headers=bearer(client))
    body: dict[str, object] = got.json()
    return body


async def test_editing_keeps_an_entry_s_own_format(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    blocks = {
        "time": 1,
        "blocks": [
            {"id": "a", "type": "paragraph", "data": {"text": "A long EditorJS text " * 30}}
        ],
        "version": "2.28.0",
    }
    rich = await _api_entry(client, {"raw_data": blocks, "title": "Rich"})
    edit = await client.get(f"/entries/{rich}/edit")
    assert 'name="text"' not in edit.text, "another format's text is not edited here"
    saved = await client.post(
        f"/entries/{rich}/edit", data={**hidden_fields(edit.text), "title": "Renamed", "tags": "x"}
    )
    assert saved.status_code == 303
    after = await _api_raw(client, rich)
    assert after["title"] == "Renamed"
    assert after["raw_data"] == blocks, "kept whole, not cut to its excerpt"

    plain = await _api_entry(client, {"raw_data": {"text": "Plain words."}})
    edit = await client.get(f"/entries/{plain}/edit")
    saved = await client.post(
        f"/entries/{plain}/edit", data={**hidden_fields(edit.text), "text": "New\r\nwords."}
    )
    assert saved.status_code == 303
    after = await _api_raw(client, plain)
    assert after["raw_data"] == {"text": "New\nwords."}, "plain stays plain, lines as typed"
    assert after["format"] == "text"

    missing = await client.post(
        f"/entries/{plain}/edit", data={"csrf": hidden_fields(edit.text)["csrf"], "text": "x"}
    )
    assert missing.status_code == 422
    assert (await _api_raw(client, plain))["raw_data"] == {"text": "New\nwords."}


async def test_cookies_behind_tls_are_secure_host_cookies(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    app.state.settings.web.secure_cookies = "always"
    try:
        form = await client.get("/register")
        assert "__Host-diarist_form=" in form.headers["set-cookie"]
        assert "secure" in form.headers["set-cookie"].lower()
        fields = {
            **hidden_fields(form.text),
            "name": "Ada",
            "email": "tls@example.com",
            "password": "amber-falcon-river-92",
        }
        # httpx keeps Secure cookies for https only: the test hands the form cookie over.
        client.cookies.set("__Host-diarist_form", hidden_fields(form.text)["csrf"])
        made = await client.post("/register", data=fields)
        assert made.status_code == 303, made.text
        session = made.headers["set-cookie"]
        assert session.startswith("__Host-diarist_session=")
        assert "secure" in session.lower()
        assert "domain" not in session.lower()
    finally:
        app.state.settings.web.secure_cookies = "auto"


async def test_a_snippet_shows_the_text_as_written(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    text = "A river walk; 3 < 4 and <b>bold</b> stays text &lt; too."
    await _api_entry(client, {"raw_data": {"text": text}})  # plain text: searched as written
    found = await client.get("/search", params={"q": "river", "mode": "keyword"})
    assert "<mark>river</mark>" in found.text.lower()
    # ts_headline drops what its parser takes for tags; the rest is escaped, never markup.
    assert "3 &lt; 4 and" in found.text
    assert "<b>" not in found.text
    assert active_parts(found.text) == []


async def test_a_service_error_on_a_page_is_a_page(client: httpx.AsyncClient) -> None:
    """Whatever the client asks for: a page route answers with a page, the API with
    problem+json (by the route, not the Accept header)."""
    await signed_up_in_browser(client)
    missing = "/entries/00000000-0000-0000-0000-000000000000"
    fields = hidden_fields((await client.get("/write")).text)
    for as_page in (
        await client.post(f"{missing}/delete", data=fields),
        await client.get(missing),
        await client.get(f"{missing}/edit"),
        await client.post(f"{missing}/edit", data={**fields, "text": "x", "version": "1"}),
    ):
        assert as_page.status_code == 404
        assert as_page.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in as_page.text
    as_api = await client.get(
        "/api/v1/entries/00000000-0000-0000-0000-000000000000",
        headers={"Accept": "text/html", **bearer(client)},
    )
    assert as_api.headers["content-type"] == "application/problem+json"


async def test_a_post_without_a_session_comes_back_to_its_page(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/write", data={"text": "x"}, headers={"Referer": "http://diarist.test/write"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/write"
    elsewhere = await client.post(
        "/write", data={"text": "x"}, headers={"Referer": "https://evil.example/write"}
    )
    assert elsewhere.headers["location"] == "/login?next=/"


async def test_a_reused_key_gets_a_new_one_so_the_text_can_be_saved(
    client: httpx.AsyncClient,
) -> None:
    await signed_up_in_browser(client)
    fields = {**hidden_fields((await client.get("/write")).text), "text": "First."}
    assert (await client.post("/write", data=fields)).status_code == 303
    reused = await client.post("/write", data={**fields, "text": "Something else."})
    assert reused.status_code == 422
    again = hidden_fields(reused.text)
    assert again["idempotency"] != fields["idempotency"]
    saved = await client.post("/write", data={**again, "text": "Something else."})
    assert saved.status_code == 303
