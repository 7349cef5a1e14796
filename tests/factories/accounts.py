"""Accounts made through the real API."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as accounts_repository
from diarist.accounts.personal_data import PersonalData
from diarist.config import Settings
from diarist.db.engine import act_as
from diarist.models import UserIdentity

PASSWORD = "amber-falcon-river-92"
_serial = itertools.count(1)


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_serial)}@example.org"


def email_index(settings: Settings, email: str) -> bytes:
    """The blind index an account with this (normalised) address is found by."""
    return PersonalData.from_settings(settings).email_index(email)


async def register(
    client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD, name: str = "Ada"
) -> str:
    email = email or unique_email()
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "name": name, "password": password}
    )
    assert response.status_code == 201, response.text
    return email


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


async def signed_up(client: httpx.AsyncClient, email: str | None = None) -> Account:
    email = await register(client, email)
    return Account(email=email, password=PASSWORD, token=await login(client, email))


async def user_id_of(client: httpx.AsyncClient, account: Account) -> uuid.UUID:
    """The account's user id, as the API reports it."""
    response = await client.get("/api/v1/me", headers=account.auth)
    assert response.status_code == 200, response.text
    return uuid.UUID(response.json()["id"])


async def link_identity(session: AsyncSession, user_id: uuid.UUID) -> None:
    """A provider's identity linked to the user, as signing in with one links it (the round
    trip itself is tested against a real provider in tests/web/test_oidc.py)."""
    await act_as(session, user_id)
    identity = UserIdentity(
        user_id=user_id, provider="local", issuer="https://id.example", subject=str(user_id)
    )
    await accounts_repository.insert_identity(session, identity)
