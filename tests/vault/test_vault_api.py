"""The vault through its API with the Python client (opaque-snake for OPAQUE, our key
hierarchy): register, unlock, store and read back a secret entry, change the phrase; the server
sees no plaintext and no phrase; wrong phrases, replayed or late KE3s, other users' tags and
malformed messages are refused as problem+json; guesses are throttled."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import opaque_snake
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts.service import AccountsContext, Client
from diarist.config import AuthSettings
from diarist.db.engine import act_as
from diarist.vault import service as vault_service
from diarist.vault.client import Unlocked, VaultClient, VaultClientError, b64, unb64
from tests.factories.accounts import Account, signed_up, user_id_of

MARKER = "vault-marker-ocelot-29"
SECRET = f"# Dear diary\n\nSomething only I may read: {MARKER}.".encode()


async def _vault(client: httpx.AsyncClient, me: Account) -> VaultClient:
    return VaultClient(client, me.auth, await user_id_of(client, me))


async def test_a_secret_entry_round_trip_and_a_change_of_phrase(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("my long secret phrase")
    assert await vault.unlock(tag_id, "not my phrase") is None
    unlocked = await vault.find("my long secret phrase")
    assert unlocked is not None
    assert unlocked.tag_id == tag_id
    object_id = await vault.store(unlocked, SECRET, "text/markdown")
    assert await vault.read(unlocked, object_id) == ("text/markdown", SECRET)

    listed = await client.get(
        f"/api/v1/vault/tags/{tag_id}/objects", headers={**me.auth, **unlocked.headers}
    )
    [item] = listed.json()
    assert (item["object_id"], item["size"]) == (str(object_id), 256)

    await act_as(session, vault.user_id)
    stored = await session.execute(
        text("SELECT ciphertext, content_type FROM vault_blobs WHERE object_id = :id"),
        {"id": object_id},
    )
    ciphertext, content_type = stored.one()
    assert MARKER.encode() not in bytes(ciphertext)
    assert content_type == "text/markdown"

    before = await _phrase_ticket(client, me, unlocked)
    waiting = opaque_snake.OpaqueClient()
    ke1, _ = waiting.start_login("my long secret phrase")
    pending = await client.post(
        f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())}, headers=me.auth
    )
    await vault.change_phrase(unlocked, "a new and longer secret phrase")
    await act_as(session, vault.user_id)
    assert await session.scalar(text("SELECT count(*) FROM opaque_sessions")) == 0, (
        "a login begun under the old phrase is ended with it"
    )
    assert pending.status_code == 200
    assert await vault.unlock(tag_id, "my long secret phrase") is None
    locked = await client.get(
        f"/api/v1/vault/tags/{tag_id}/keys", headers={**me.auth, **unlocked.headers}
    )
    assert locked.status_code == 401, "the old session ended with the phrase"
    again = await vault.unlock(tag_id, "a new and longer secret phrase")
    assert again is not None
    assert await vault.read(again, object_id) == ("text/markdown", SECRET)

    ticket = await _phrase_ticket(client, me, again)
    stale = await client.put(
        f"/api/v1/vault/tags/{tag_id}/phrase",
        json={"record": b64(_record()), "ticket": ticket, "key_version": 2, "keys": []},
        headers={**me.auth, **again.headers},
    )
    assert stale.status_code == 422
    assert "Re-wrap every key" in stale.json()["detail"], "every key must be re-wrapped"
    keys = (
        await client.get(f"/api/v1/vault/tags/{tag_id}/keys", headers={**me.auth, **again.headers})
    ).json()
    conflict = await client.put(
        f"/api/v1/vault/tags/{tag_id}/phrase",
        json={"record": b64(_record()), "ticket": before, "key_version": 1,
              "keys": [{"key_id": k["key_id"], "wrapped": k["wrapped"]} for k in keys]},
        headers={**me.auth, **again.headers},
    )  # fmt: skip
    assert conflict.status_code == 409, "a change begun before the last one"
    assert conflict.json()["code"] == "key_version_conflict"
    for forged in (before[:-2] + ("A" if before[-2] != "A" else "B") + before[-1], ticket):
        refused = await client.put(
            f"/api/v1/vault/tags/{tag_id}/phrase",
            json={"record": b64(_record()), "ticket": forged, "key_version": 1,
                  "keys": [{"key_id": k["key_id"], "wrapped": k["wrapped"]} for k in keys]},
            headers={**me.auth, **again.headers},
        )  # fmt: skip
        assert refused.status_code == 422, "an altered ticket, or one of another key version"
        assert refused.json()["code"] == "vault_message_invalid"

    await act_as(session, vault.user_id)
    events = (await session.execute(text(
        "SELECT event_type, details FROM security_events WHERE event_type LIKE 'vault%%'"
        " ORDER BY id"
    ))).all()  # fmt: skip
    kinds = [event for event, _ in events]
    assert kinds[:4] == [
        "vault_tag_created",
        "vault_login_started",
        "vault_login_started",
        "vault_unlocked",
    ], "the wrong phrase's KE2 is on record, though the client sent no KE3 for it"
    assert "vault_phrase_changed" in kinds
    assert "vault_login_failed" not in kinds, "a wrong phrase sends no KE3 (the client knows)"
    assert all(set(details) == {"tag_id"} for _, details in events), "the tag's id, nothing more"
    gone = await client.delete(f"/api/v1/vault/tags/{tag_id}", headers={**me.auth, **again.headers})
    assert gone.status_code == 204
    assert (await client.get("/api/v1/vault/tags", headers=me.auth)).json() == []


async def _phrase_ticket(client: httpx.AsyncClient, me: Account, unlocked: Unlocked) -> str:
    """A ticket from a phrase registration round trip on the unlocked tag."""
    request, _ = opaque_snake.OpaqueClient().start_registration("another phrase")
    started = await client.post(
        f"/api/v1/vault/tags/{unlocked.tag_id}/phrase-registrations",
        json={"request": b64(request.to_bytes())}, headers={**me.auth, **unlocked.headers},
    )  # fmt: skip
    assert started.status_code == 200, started.text
    return str(started.json()["ticket"])


async def test_each_phrase_registration_evaluates_under_a_new_oprf_key(
    client: httpx.AsyncClient,
) -> None:
    """The same blinded element, registered twice for a new phrase and sent as a login: three
    different evaluations — an oracle on the phrase registrations learns nothing about the
    OPRF key of the phrase in use (or of the next one)."""
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("phrase in use")
    unlocked = await vault.unlock(tag_id, "phrase in use")
    assert unlocked is not None
    request, _ = opaque_snake.OpaqueClient().start_registration("a guess")
    blinded = request.to_bytes()
    evaluated = []
    for _ in range(2):
        answer = await client.post(
            f"/api/v1/vault/tags/{tag_id}/phrase-registrations", json={"request": b64(blinded)},
            headers={**me.auth, **unlocked.headers},
        )  # fmt: skip
        evaluated.append(unb64(answer.json()["response"])[:32])
    # A KE1 opens with the blinded element (put there by hand), its KE2 with the evaluation.
    ke1, _ = opaque_snake.OpaqueClient().start_login("a guess")
    login = await client.post(
        f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(blinded + ke1.to_bytes()[32:])},
        headers=me.auth,
    )  # fmt: skip
    evaluated.append(unb64(login.json()["ke2"])[:32])
    assert len(set(evaluated)) == 3


def _record() -> bytes:
    """A well-formed registration record (its client key a real element)."""
    client = opaque_snake.OpaqueClient()
    server = opaque_snake.OpaqueServer()
    request, state = client.start_registration("x")
    response = server.create_registration_response(request, "t")
    return bytes(client.finish_registration(response, state, "x").upload.to_bytes())


async def test_a_login_is_answered_once_within_its_minute_and_only_by_its_owner(
    client: httpx.AsyncClient,
) -> None:
    me, other = await signed_up(client), await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("phrase of mine")
    theirs = await client.post(
        f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(bytes(96))}, headers=other.auth
    )
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "secret_tag_not_found"

    login = opaque_snake.OpaqueClient()
    ke1, state = login.start_login("phrase of mine")
    started = await client.post(
        f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())}, headers=me.auth
    )
    result = login.finish_login(
        opaque_snake.CredentialResponse.from_bytes(unb64(started.json()["ke2"])), state,
        "phrase of mine",
    )  # fmt: skip
    finish = f"/api/v1/vault/tags/{tag_id}/logins/{started.json()['login_id']}"
    ke3 = {"ke3": b64(result.finalization.to_bytes())}
    theirs = await client.post(finish, json=ke3, headers=other.auth)
    assert theirs.status_code == 401, "not their login (and their try does not use it up)"
    assert theirs.json()["code"] == "vault_login_failed"
    assert (await client.post(finish, json=ke3, headers=me.auth)).status_code == 200
    replayed = await client.post(finish, json=ke3, headers=me.auth)
    assert replayed.status_code == 401, "one KE3 a login"

    ke1, state = login.start_login("phrase of mine")
    started = await client.post(
        f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())}, headers=me.auth
    )
    finish = f"/api/v1/vault/tags/{tag_id}/logins/{started.json()['login_id']}"
    wrong = await client.post(finish, json={"ke3": b64(bytes(64))}, headers=me.auth)
    assert wrong.status_code == 401
    events = (await client.get("/api/v1/me/security-events", headers=me.auth)).json()["items"]
    assert events[0]["event_type"] == "vault_login_failed", "kept though the request failed"
    result = login.finish_login(
        opaque_snake.CredentialResponse.from_bytes(unb64(started.json()["ke2"])), state,
        "phrase of mine",
    )  # fmt: skip
    replay = await client.post(
        finish, json={"ke3": b64(result.finalization.to_bytes())}, headers=me.auth
    )
    assert replay.status_code == 401, "a failed KE3 used the login up"


async def test_guesses_are_throttled(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("the right phrase")
    codes = []
    for _ in range(12):
        ke1, _state = opaque_snake.OpaqueClient().start_login("a guess")
        answer = await client.post(
            f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())},
            headers=me.auth,
        )  # fmt: skip
        codes.append(answer.status_code)
        if answer.status_code == 429:
            assert answer.json()["code"] == "too_many_attempts"
            assert int(answer.headers["Retry-After"]) >= 1
            break
    assert codes[0] == 200
    assert codes[-1] == 429, codes
    events = (await client.get("/api/v1/me/security-events", headers=me.auth)).json()["items"]
    kinds = [event["event_type"] for event in events]
    assert kinds[0] == "vault_login_throttled", "kept though the request was refused"
    assert events[0]["severity"] == "warning"
    for _ in range(3):  # refused again and again: one event says so, not one each
        ke1, _state = opaque_snake.OpaqueClient().start_login("a guess")
        again = await client.post(
            f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())},
            headers=me.auth,
        )  # fmt: skip
        assert again.status_code == 429
    events = (await client.get("/api/v1/me/security-events", headers=me.auth)).json()["items"]
    assert [event["event_type"] for event in events].count("vault_login_throttled") == 1
    assert kinds.count("vault_login_started") == len(codes) - 1, "each guess is on record"


async def test_bad_input_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("phrase")
    unlocked = await vault.unlock(tag_id, "phrase")
    assert unlocked is not None
    headers = {**me.auth, **unlocked.headers}
    object_url = f"/api/v1/vault/tags/{tag_id}/objects/{uuid.uuid4()}"
    blob = {"key_id": str(uuid.uuid4()), "iv": b64(bytes(12)), "ciphertext": b64(bytes(256)),
            "auth_tag": b64(bytes(16)), "content_type": "text/plain"}  # fmt: skip
    registrations, tags = "/api/v1/vault/registrations", "/api/v1/vault/tags"
    logins, keys = f"{tags}/{tag_id}/logins", f"{tags}/{tag_id}/keys"
    forged = {**me.auth, "X-Vault-Token": "dvt_forged"}
    new_tag = str(uuid.uuid4())
    cases = [
        ("POST", registrations, {"request": "!!not base64!!"}, me.auth, 422, "validation_error"),
        ("POST", registrations, {"request": b64(bytes(32))}, me.auth, 422, "vault_message_invalid"),
        ("POST", tags, {"tag_id": new_tag, "record": b64(bytes(191))}, me.auth, 422,
         "validation_error"),
        ("POST", tags, {"tag_id": new_tag, "record": b64(b"\xff" * 192)}, me.auth, 422,
         "vault_message_invalid"),
        ("POST", tags, {"tag_id": str(tag_id), "record": b64(_record())}, me.auth, 409,
         "secret_tag_exists"),
        ("POST", logins, {"ke1": b64(bytes(96))}, me.auth, 422, "vault_message_invalid"),
        ("PUT", object_url, blob, me.auth, 401, "vault_locked"),
        ("PUT", object_url, {**blob, "ciphertext": b64(bytes(255))}, headers, 422,
         "validation_error"),
        ("PUT", object_url, blob, headers, 404, "vault_object_not_found"),  # no such key
        ("PUT", f"{keys}/{uuid.uuid4()}", {"wrapped": b64(bytes(39))}, headers, 422,
         "validation_error"),
        ("GET", object_url, None, headers, 404, "vault_object_not_found"),
        ("GET", keys, None, forged, 401, "vault_locked"),
    ]  # fmt: skip
    for method, url, body, sent_headers, status, code in cases:
        answer = await client.request(method, url, json=body, headers=sent_headers)
        assert answer.status_code == status, (method, url, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == code, (method, url, answer.text)
    await act_as(session, vault.user_id)
    counts = (await session.execute(text(
        "SELECT (SELECT count(*) FROM secret_tags), (SELECT count(*) FROM vault_blobs),"
        " (SELECT count(*) FROM vault_wrapped_keys)"
    ))).one()  # fmt: skip
    assert tuple(counts) == (1, 0, 0)


async def test_an_expired_login_cannot_be_finished(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("phrase")
    login = opaque_snake.OpaqueClient()
    ke1, state = login.start_login("phrase")
    started = (await client.post(
        f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())}, headers=me.auth
    )).json()  # fmt: skip
    await act_as(session, vault.user_id)
    await session.execute(
        text("UPDATE opaque_sessions SET expires_at = :past"),
        {"past": datetime.now(UTC) - timedelta(seconds=1)},
    )
    result = login.finish_login(
        opaque_snake.CredentialResponse.from_bytes(base64.urlsafe_b64decode(started["ke2"] + "==")),
        state, "phrase",
    )  # fmt: skip
    late = await client.post(
        f"/api/v1/vault/tags/{tag_id}/logins/{started['login_id']}",
        json={"ke3": b64(result.finalization.to_bytes())}, headers=me.auth,
    )  # fmt: skip
    assert late.status_code == 401
    assert late.json()["code"] == "vault_login_failed"


async def _flip(session: AsyncSession, user_id: uuid.UUID, table: str, column: str) -> None:
    """Flip one bit of the column in the user's row of `table` (as an attacker with the
    database would)."""
    await act_as(session, user_id)
    await session.execute(
        text(
            f"UPDATE {table} SET {column} = set_byte({column}, 3, get_byte({column}, 3) # 1)"  # noqa: S608
        )
    )


async def test_tampering_is_refused(client: httpx.AsyncClient, session: AsyncSession) -> None:
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("tamper phrase")
    unlocked = await vault.unlock(tag_id, "tamper phrase")
    assert unlocked is not None
    object_id = await vault.store(unlocked, b"intact", "text/plain")
    for table, column in (("vault_blobs", "ciphertext"), ("vault_wrapped_keys", "wrapped")):
        await _flip(session, vault.user_id, table, column)
        with pytest.raises(VaultClientError, match="altered"):
            await vault.read(unlocked, object_id)
        await _flip(session, vault.user_id, table, column)  # back as it was
        assert await vault.read(unlocked, object_id) == ("text/plain", b"intact")

    async def begun() -> tuple[str, dict[str, str]]:
        login = opaque_snake.OpaqueClient()
        ke1, state = login.start_login("tamper phrase")
        started = (await client.post(
            f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())},
            headers=me.auth,
        )).json()  # fmt: skip
        result = login.finish_login(
            opaque_snake.CredentialResponse.from_bytes(unb64(started["ke2"])), state,
            "tamper phrase",
        )  # fmt: skip
        url = f"/api/v1/vault/tags/{tag_id}/logins/{started['login_id']}"
        return url, {"ke3": b64(result.finalization.to_bytes())}

    url, ke3 = await begun()
    await _flip(session, vault.user_id, "opaque_sessions", "session_data")
    assert (await client.post(url, json=ke3, headers=me.auth)).status_code == 401
    # A sealed state moved to another login does not open there (its AAD names the login).
    first_url, first_ke3 = await begun()
    second_url, _ = await begun()
    await act_as(session, vault.user_id)
    await session.execute(
        text(
            "UPDATE opaque_sessions SET session_data = (SELECT session_data FROM opaque_sessions"
            " WHERE id = :first) WHERE id = :second"
        ),
        {"first": uuid.UUID(first_url.rsplit("/", 1)[1]),
         "second": uuid.UUID(second_url.rsplit("/", 1)[1])},
    )  # fmt: skip
    moved = await client.post(second_url, json=first_ke3, headers=me.auth)
    assert moved.status_code == 401
    assert (await client.post(first_url, json=first_ke3, headers=me.auth)).status_code == 200


async def test_proven_logins_are_never_throttled(client: httpx.AsyncClient) -> None:
    """Each KE2 counts as a guess until its KE3 proves the phrase; then that count is taken
    back (one, not the address's whole counter)."""
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("proven phrase")
    for _ in range(AuthSettings().ip_free_failures + 5):
        assert await vault.unlock(tag_id, "proven phrase") is not None


async def test_a_login_finishes_whatever_zone_the_database_answers_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The sealed state's AAD holds the expiry as an instant, not as text in some zone."""
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("zone phrase")
    await session.execute(text("SET TIME ZONE 'Pacific/Chatham'"))
    try:
        assert await vault.unlock(tag_id, "zone phrase") is not None
    finally:
        await session.execute(text("SET TIME ZONE 'UTC'"))


async def test_a_tag_from_another_server_setup_is_reported_not_taken_for_a_wrong_phrase(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """As after a setup file lost and made anew: the tag's record was made under a setup that
    is not the data dir's, so no phrase could open it — 503 saying so, not a silent failure."""
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("phrase")
    await act_as(session, vault.user_id)
    assert len(await session.scalar(text("SELECT setup_fingerprint FROM secret_tags"))) == 8
    await session.execute(text("UPDATE secret_tags SET setup_fingerprint = '\\x0102030405060708'"))
    ke1, _ = opaque_snake.OpaqueClient().start_login("phrase")
    refused = await client.post(
        f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())}, headers=me.auth
    )
    assert refused.status_code == 503
    assert refused.json()["code"] == "vault_setup_changed"
    assert await session.scalar(text("SELECT count(*) FROM opaque_sessions")) == 0


async def test_a_proven_login_takes_its_count_back_from_the_address_of_its_ke2(
    client: httpx.AsyncClient, session: AsyncSession, accounts_context: AccountsContext
) -> None:
    """A client that moves between networks between KE2 and KE3: the count goes back to the
    address that was charged, not to the one the KE3 comes from."""
    me = await signed_up(client)
    vault = await _vault(client, me)
    tag_id = await vault.register("moving phrase")
    keyring = accounts_context.keyring
    here, there = Client("192.0.2.10", None), Client("198.51.100.20", None)

    async def failures(address: str) -> int | None:
        key = keyring.identifier_digest("ip", f"vault:{address}")
        found = await session.scalar(
            text("SELECT failures FROM auth_throttle WHERE kind = 'ip' AND key_hash = :k"),
            {"k": key},
        )
        return None if found is None else int(found)

    await act_as(session, vault.user_id)
    login = opaque_snake.OpaqueClient()
    ke1, state = login.start_login("moving phrase")
    now = datetime.now(UTC)
    login_id, ke2 = await vault_service.login_start(
        session, accounts_context, vault.user_id, tag_id, ke1.to_bytes(), here, now
    )
    assert await failures(here.ip or "") == 1, "a KE2 is a guess until proven"
    result = login.finish_login(
        opaque_snake.CredentialResponse.from_bytes(ke2), state, "moving phrase"
    )
    await vault_service.login_finish(
        session, accounts_context, vault.user_id, tag_id, login_id,
        result.finalization.to_bytes(), there, now,
    )  # fmt: skip
    assert await failures(here.ip or "") == 0, "taken back where it was counted"
    assert await failures(there.ip or "") is None, "nothing owed there, nothing taken"
