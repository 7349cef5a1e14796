"""Administration as the system role (`diarist user ...`): list, deactivate, reset."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.errors import UserNotFound
from diarist.accounts.personal_data import PersonalData
from diarist.accounts.service._context import AccountsContext, normalize_email
from diarist.accounts.service._events import record_event
from diarist.accounts.service._profile import set_password
from diarist.db.engine import act_as
from diarist.models import User


async def _user_with_email(session: AsyncSession, personal: PersonalData, email: str) -> User:
    normalized = normalize_email(email)
    user = await repo.find_user_by_email(session, personal.email_index(normalized))
    if user is None:
        raise UserNotFound(f"No account with the email {normalized}.")
    return user


async def _act_as_user_with_email(session: AsyncSession, ctx: AccountsContext, email: str) -> User:
    user = await _user_with_email(session, ctx.personal, email)
    await act_as(session, user.id)
    return user


async def user_id_for_email(session: AsyncSession, personal: PersonalData, email: str) -> uuid.UUID:
    """The id of the account with this email (system role only); UserNotFound otherwise."""
    return (await _user_with_email(session, personal, email)).id


async def list_users(session: AsyncSession) -> list[User]:
    """Every account, oldest first (system role only)."""
    return await repo.list_users(session)


async def set_active(
    session: AsyncSession, ctx: AccountsContext, email: str, *, active: bool
) -> User:
    """Deactivate (ending every token) or reactivate an account as an administrator."""
    user = await _act_as_user_with_email(session, ctx, email)
    user.is_active = active
    user.deactivated_by = None if active else "admin"
    if not active:
        await repo.revoke_tokens(session, user.id)
    await record_event(
        session, ctx, user.id, "reactivated" if active else "deactivated", by="admin"
    )
    await session.flush()
    return user


async def admin_reset_password(
    session: AsyncSession, ctx: AccountsContext, email: str, new_password: str
) -> None:
    """Set a password for a user who cannot receive mail; their sessions end."""
    user = await _act_as_user_with_email(session, ctx, email)
    await set_password(ctx, user, new_password)
    await repo.revoke_tokens(session, user.id, kind="session")
    await record_event(session, ctx, user.id, "password_reset", by="admin")
