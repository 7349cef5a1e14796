"""Who a request acts for: the `Principal` of a checked token, and the `PendingPrincipal` of
one a hot request checks in its own round trip (db.pipeline). Public: other domains' hot
reads and writes take a `PendingPrincipal` and confirm it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from fastapi import BackgroundTasks
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.errors import InsufficientScope, NotAuthenticated
from diarist.accounts.preferences import UserPreferences
from diarist.db.engine import Database
from diarist.db.pipeline import Statement, Transaction, read_in_one_trip
from diarist.kit.middleware import current_request_id

_log = structlog.get_logger("diarist.accounts")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    token_id: uuid.UUID
    kind: str
    scope: str


async def _touch(database: Database, token_id: uuid.UUID, idle: timedelta) -> None:
    """After the response: a read's only write, in a transaction of its own."""
    try:
        async with database.unit_of_work() as session:
            await repo.touch_token(session, token_id, idle)
    except Exception as exc:
        _log.warning("token_touch_failed", error=type(exc).__name__)


@dataclass(frozen=True)
class PendingPrincipal:
    """A request's bearer token, not yet checked: a hot read sends its check as the first
    statement of its one round trip (`statement`), then `confirm`s what came back."""

    digest: bytes
    method: str
    database: Database
    idle: timedelta
    background: BackgroundTasks

    @property
    def statement(self) -> Statement:
        return Statement(
            repo.AUTH_RESOLVE_SQL, {"digest": self.digest, "request_id": current_request_id()}
        )

    async def read(
        self, session: AsyncSession, *statements: Statement
    ) -> tuple[Principal, list[list[Any]]]:
        """A hot read: the token check and `statements` in one round trip (db.pipeline), the
        check confirmed before any row is returned; the principal and each statement's rows."""
        principal, _, rows = await self.read_with_preferences(session, *statements)
        return principal, rows

    async def read_with_preferences(
        self, session: AsyncSession, *statements: Statement
    ) -> tuple[Principal, UserPreferences, list[list[Any]]]:
        """`read`, with the user's preferences the check returns."""
        checked, *rows = await read_in_one_trip(session, [self.statement, *statements])
        principal, resolved = self._confirmed(checked)
        return principal, UserPreferences.from_document(resolved.preferences), rows

    async def check(
        self, transaction: Transaction, *statements: Statement
    ) -> tuple[Principal, UserPreferences, list[list[Any]]]:
        """A hot write's first round trip: the token check (it opens `transaction` and sets
        its tenant) and `statements` that need no answer from it, the check confirmed before
        any row is returned; the principal, their preferences and each statement's rows."""
        checked, *rows = await transaction.send([self.statement, *statements])
        principal, resolved = self._confirmed(checked)
        return principal, UserPreferences.from_document(resolved.preferences), rows

    def _confirmed(self, checked: list[Any]) -> tuple[Principal, repo.ResolvedToken]:
        """The principal of the check's rows (none: the token is not valid) and the row."""
        resolved = repo.ResolvedToken(*checked[0]) if checked else None
        principal = self.confirm(resolved)
        assert resolved is not None  # confirmed
        return principal, resolved

    def confirm(self, resolved: repo.ResolvedToken | None) -> Principal:
        """The principal of a checked token: 401 when the token is not valid, 403 when a
        read-only token tries to write; its activity is recorded after the response."""
        if resolved is None:
            raise NotAuthenticated("The token is invalid, expired or revoked.")
        if resolved.needs_touch:
            self.background.add_task(_touch, self.database, resolved.token_id, self.idle)
        if resolved.scope == "read" and self.method not in _SAFE_METHODS:
            raise InsufficientScope("This token may only read.")
        return Principal(resolved.user_id, resolved.token_id, resolved.kind, resolved.scope)
