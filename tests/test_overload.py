"""Overload is a 503 the client can retry, not a 500: an exhausted connection pool and a
statement that ran into `statement_timeout`."""

from __future__ import annotations

import httpx
import psycopg.errors
import pytest
import sqlalchemy.exc
from fastapi import FastAPI

from diarist.accounts.service import AccountsContext
from diarist.config import Settings
from diarist.db.engine import PoolPlan
from diarist.db.provision import DatabaseUrls
from tests.factories.accounts import signed_up
from tests.fixtures.live import live_app_client


async def test_an_exhausted_pool_is_server_busy(
    settings: Settings, fresh_db: DatabaseUrls, accounts_context: AccountsContext
) -> None:
    settings.db = settings.db.model_copy(update={"pool_timeout_s": 0.2})
    async with live_app_client(settings, fresh_db, accounts_context, PoolPlan(1, 0)) as client:
        me = await signed_up(client)
        app = client._transport.app  # type: ignore[attr-defined]
        async with app.state.db.engine.connect():  # the pool's only connection, held
            busy = await client.get("/api/v1/entries", headers=me.auth)
        assert busy.status_code == 503
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.headers["retry-after"] == "1"
        assert busy.json()["code"] == "server_busy"
        assert (await client.get("/api/v1/entries", headers=me.auth)).status_code == 200


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), 503,
         "query_timeout"),
        (psycopg.errors.UniqueViolation("duplicate key value"), 500, "internal_error"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("through_sqlalchemy", [True, False], ids=["orm", "hot_read"])
async def test_a_statement_timeout_is_a_503_and_other_database_errors_a_500(
    app: FastAPI, error: Exception, status: int, code: str, through_sqlalchemy: bool
) -> None:
    """Hot reads (db.pipeline) raise psycopg's errors as they are; others come wrapped."""

    @app.get("/boom")
    async def boom() -> None:
        if through_sqlalchemy:
            raise sqlalchemy.exc.DBAPIError("SELECT 1", None, error)
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://diarist.test") as client:
        response = await client.get("/boom")
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert "duplicate key" not in response.text
