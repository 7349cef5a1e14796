"""Bad credentials, the password policy, throttling with backoff, bcrypt imports."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import bcrypt
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts.secrets import Keyring
from diarist.accounts.service import backoff_seconds
from diarist.config import Settings
from diarist.db.engine import Database, act_as
from tests.conftest import FakeClock
from tests.factories.accounts import PASSWORD, email_index, login, register, unique_email


def _problem(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json"
    return response.status_code, response.json()["code"]


async def _user_count(database: Database, settings: Settings, email: str) -> int:
    async with database.unit_of_work() as session:
        account = await session.execute(
            text("SELECT * FROM auth_find_account(:e)"), {"e": email_index(settings, email)}
        )
        return len(account.all())


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"email": "not-an-email", "name": "A", "password": PASSWORD}, (422, "invalid_email")),
        ({"email": "a@b", "name": "A", "password": PASSWORD}, (422, "invalid_email")),
        ({"email": "x@example.org", "name": "A", "password": "short"}, (422, "weak_password")),
        ({"email": "x@example.org", "name": "A", "password": "1234567890"}, (422, "weak_password")),
        ({"email": "x@example.org", "name": "A", "password": "qwertyuiop"}, (422, "weak_password")),
        ({"email": "x@example.org", "name": "A", "password": "x@example.org1"},
         (422, "weak_password")),
        ({"email": "x@example.org", "name": "", "password": PASSWORD}, (422, "validation_error")),
        ({"email": "x@example.org", "password": PASSWORD}, (422, "validation_error")),
        ({"email": "x@example.org", "name": "A", "password": PASSWORD, "admin": True},
         (422, "validation_error")),
        ({"email": "x@example.org", "name": "A", "password": "p" * 2000},
         (422, "validation_error")),
    ],
)  # fmt: skip
async def test_register_rejects_bad_input_and_writes_nothing(
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
    payload: dict[str, object],
    expected: tuple[int, str],
) -> None:
    response = await client.post("/api/v1/auth/register", json=payload)
    assert _problem(response) == expected
    assert PASSWORD not in response.text
    assert await _user_count(database, settings, "x@example.org") == 0


async def test_weak_password_says_why(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "name": "A", "password": "password123"},
    )
    assert response.json()["reason"] == "common"


async def test_wrong_password_and_unknown_email_answer_alike(client: httpx.AsyncClient) -> None:
    email = await register(client)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": "Wrong-pass-123"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": unique_email(), "password": "Wrong-pass-123"}
    )
    assert _problem(wrong) == _problem(unknown) == (401, "invalid_credentials")
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_backoff_grows_exponentially_and_is_capped() -> None:
    delays = [backoff_seconds(n, free=5, base=1, cap=900) for n in range(1, 20)]
    assert delays[:5] == [0, 0, 0, 0, 0]
    assert delays[5:10] == [1, 2, 4, 8, 16]
    assert max(delays) == 900


async def test_brute_force_is_slowed_but_the_user_gets_in(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    email = await register(client)
    waits: list[int] = []
    statuses: list[int] = []
    for attempt in range(20):
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": f"guess-{attempt}-xyz"}
        )
        if response.status_code == 429:
            # While blocked the password is not even checked; wait it out and guess again.
            assert response.json()["code"] == "too_many_attempts"
            retry_after = int(response.headers["retry-after"])
            waits.append(retry_after)
            clock.advance(retry_after)
            response = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": f"guess-{attempt}-xyz"}
            )
        statuses.append(response.status_code)
    assert statuses == [401] * 20
    assert waits == sorted(waits), "each wait is at least as long as the one before"
    assert waits[0] == 1
    assert waits[-1] >= 900 // 2

    # Right now even the real password is refused: the account is cooling down.
    blocked = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert blocked.status_code == 429
    clock.advance(int(blocked.headers["retry-after"]))
    # Afterwards the real user signs in, and the counter starts again from zero.
    assert await login(client, email)
    after = await client.post(
        "/api/v1/auth/login", json={"email": email, "password": "nope-nope-1"}
    )
    assert after.status_code == 401


async def test_unknown_accounts_are_throttled_too(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    email = unique_email()
    codes = []
    for _ in range(7):
        response = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": "x" * 12}
        )
        codes.append(response.status_code)
    assert codes == [401] * 6 + [429]


async def test_bcrypt_hash_is_accepted_and_upgraded(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    email = await register(client)
    legacy = bcrypt.hashpw(b"imported-from-daylog", bcrypt.gensalt(rounds=4)).decode()
    account = (
        await session.execute(
            text("SELECT user_id FROM auth_find_account(:e)"), {"e": email_index(settings, email)}
        )
    ).one()
    await act_as(session, account.user_id)
    await session.execute(
        text("UPDATE users SET password_hash = :h WHERE id = :id"),
        {"h": legacy, "id": account.user_id},
    )
    await session.commit()

    await login(client, email, "imported-from-daylog")
    stored = await session.scalar(
        text("SELECT password_hash FROM auth_find_account(:e)"), {"e": email_index(settings, email)}
    )
    assert isinstance(stored, str)
    assert stored.startswith("$argon2id$")
    await login(client, email, "imported-from-daylog")


def test_keyring_digests_use_one_derived_key_per_purpose() -> None:
    secret = "test-secret-key-with-enough-entropy-0123456789"
    keyring = Keyring(SecretStr(secret))

    def expected(label: str, message: str) -> hmac.HMAC:
        key = hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()
        return hmac.new(key, message.encode(), hashlib.sha256)

    user_id = uuid.UUID(int=7)
    assert keyring.code_digest(user_id, "login", "012345") == (
        expected("code", f"{user_id}:login:012345").digest()
    )
    assert keyring.identifier_digest("email", "a@example.org") == (
        expected("throttle", "email:a@example.org").digest()
    )
    assert (
        keyring.audit_digest("203.0.113.5") == (expected("audit", "203.0.113.5").hexdigest()[:32])
    )
    assert keyring.audit_digest("") is None
    # Purposes never share a key: the same input hashes differently per purpose.
    assert keyring.identifier_digest("x", "y") != expected("code", "x:y").digest()


async def test_a_password_longer_than_the_strength_checker_takes_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    """zxcvbn refuses more than 72 characters; diarist's limit is 1,024 (it was a 500)."""
    long_password = "correct horse battery staple on a windy hill " * 2  # 92 characters
    email = await register(client, password=long_password)
    token = await login(client, email, long_password)
    longer = long_password + "and the sea beyond the dunes"
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": long_password, "new_password": longer},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 204, changed.text
    assert await login(client, email, longer)
