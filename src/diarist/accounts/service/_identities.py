"""Signing in with an OpenID Connect provider, and the identities linked to an account.

Who the provider vouches for is found by its identity (issuer + subject) first. An identity
seen for the first time is linked to the account with the same address only when both sides
confirmed that address: the provider (`email_verified`, or a provider trusted for it) and this
server (the account's address was confirmed here). Someone who registered another person's
address without confirming it must not gain their sign-ins, nor keep a way into an account
the provider's user then takes over. With no such account, one is made (unless the provider
may not make accounts). A signed-in account may connect an identity of any provider itself.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import repository as repo
from diarist.accounts.errors import (
    IdentityInUse,
    IdentityLastWayIn,
    IdentityLinkUnconfirmed,
    IdentityNotFound,
    IdentityProviderLinked,
    OidcEmailUnverified,
    OidcSignUpClosed,
)
from diarist.accounts.oidc import Flow, Identity
from diarist.accounts.personal_data import IDENTITY_EMAIL
from diarist.accounts.service._context import AccountsContext, Client, Issued, normalize_email
from diarist.accounts.service._events import record_event
from diarist.accounts.service._login import complete_login, insert_account
from diarist.db.engine import act_as
from diarist.models import UserIdentity


async def sign_in_with_provider(
    session: AsyncSession,
    ctx: AccountsContext,
    flow: Flow,
    code: str,
    redirect_uri: str,
    client: Client,
) -> Issued:
    """The provider's code exchanged and checked, then the account it names signed in: found
    by its identity, linked by a confirmed address, or made."""
    identity = await ctx.providers.finish(flow, code, redirect_uri)  # before any query
    account = await repo.find_identity(session, identity.issuer, identity.subject)
    if account is None:
        account = await _account_for_new_identity(session, ctx, identity, client)
    else:
        await act_as(session, account.user_id)
    await repo.touch_identity(
        session, account.user_id, identity.issuer, identity.subject, ctx.clock.now()
    )
    return await complete_login(
        session, ctx, account, client, [], method="oidc", provider=identity.provider
    )


async def _account_for_new_identity(
    session: AsyncSession, ctx: AccountsContext, identity: Identity, client: Client
) -> repo.AccountLookup:
    if not identity.email or not identity.email_verified:
        raise OidcEmailUnverified()
    email = normalize_email(identity.email)
    account = await repo.find_account(session, ctx.personal.email_index(email))
    if account is not None:
        if not account.email_verified:
            raise IdentityLinkUnconfirmed()
        await act_as(session, account.user_id)
    else:
        if not ctx.providers.configured(identity.provider).allow_sign_up:
            raise OidcSignUpClosed()
        account = await _new_account(session, ctx, identity, email, client)
    await _link(session, ctx, account.user_id, identity, client)
    return account


async def _new_account(
    session: AsyncSession, ctx: AccountsContext, identity: Identity, email: str, client: Client
) -> repo.AccountLookup:
    """An account for someone the provider vouches for: no password (they sign in with the
    provider, or an emailed code), the address confirmed by the provider."""
    user = await insert_account(
        session,
        ctx,
        email,
        name=identity.name or email.split("@", 1)[0][:200],
        password_hash=None,
        auth_provider=identity.provider,
        auth_provider_id=identity.subject,
        email_verified_at=func.now(),
    )
    user_id = user.id
    await record_event(session, ctx, user_id, "register", client, provider=identity.provider)
    return repo.AccountLookup(user_id, None, True, None, True)


async def _link(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    identity: Identity,
    client: Client,
) -> None:
    try:
        async with session.begin_nested():
            await repo.insert_identity(
                session,
                UserIdentity(
                    user_id=user_id,
                    provider=identity.provider,
                    issuer=identity.issuer,
                    subject=identity.subject,
                    email_sealed=ctx.personal.seal_optional(IDENTITY_EMAIL, identity.email),
                ),
            )
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint == "uq_user_identities_user_id_provider":
            raise IdentityProviderLinked() from None
        if constraint == "uq_user_identities_issuer_subject":  # linked a moment ago
            raise IdentityInUse() from None
        raise
    await record_event(session, ctx, user_id, "identity_linked", client, provider=identity.provider)


async def link_provider(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    flow: Flow,
    code: str,
    redirect_uri: str,
    client: Client,
) -> Identity:
    """Connect the identity the provider vouches for to the signed-in account (whatever its
    address there); refused when it is another account's."""
    identity = await ctx.providers.finish(flow, code, redirect_uri)
    owner = await repo.find_identity(session, identity.issuer, identity.subject)
    await act_as(session, user_id)
    if owner is not None:
        if owner.user_id != user_id:
            raise IdentityInUse()
        return identity  # already connected: nothing to do
    await _link(session, ctx, user_id, identity, client)
    return identity


async def list_identities(session: AsyncSession, user_id: uuid.UUID) -> list[UserIdentity]:
    """The identities connected to the account, oldest first."""
    return await repo.list_identities(session, user_id)


async def unlink_identity(
    session: AsyncSession,
    ctx: AccountsContext,
    user_id: uuid.UUID,
    identity_id: uuid.UUID,
    client: Client,
) -> None:
    """Disconnect an identity; refused when it is the account's only way in besides emailed
    codes (no password, no other identity)."""
    user = await repo.get_user(session, user_id)
    identities = await repo.list_identities(session, user_id)
    if not any(found.id == identity_id for found in identities):
        raise IdentityNotFound()
    if user is not None and user.password_hash is None and len(identities) == 1:
        raise IdentityLastWayIn()
    removed = await repo.delete_identity(session, user_id, identity_id)
    assert removed is not None
    await record_event(
        session, ctx, user_id, "identity_unlinked", client, provider=removed.provider
    )
