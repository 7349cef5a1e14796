"""HTTP routes of the vault (docs/vault.md): registering and unlocking secret tags by OPAQUE,
then — with the `X-Vault-Token` an unlock gives — their wrapped keys and encrypted objects, a
change of passphrase, deleting a tag."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from diarist.accounts.dependencies import Accounts, ClientInfo, CurrentPrincipal
from diarist.db.session import DbSession
from diarist.kit.responses import problem_responses
from diarist.vault import service
from diarist.vault.errors import VaultMessageInvalid
from diarist.vault.schemas import (
    BlobIn,
    BlobListed,
    BlobOut,
    LoginFinishIn,
    LoginStartIn,
    LoginStartOut,
    PhraseChangeIn,
    PhraseRegistrationOut,
    RegistrationStartIn,
    RegistrationStartOut,
    SecretTagIn,
    SecretTagOut,
    UnlockedOut,
    WrappedKeyIn,
    WrappedKeyOut,
)

vault_router = APIRouter(prefix="/api/v1/vault", tags=["vault"])
VaultToken = Annotated[str | None, Header(alias="X-Vault-Token", max_length=200)]
_LOCKED = problem_responses(401, 404, 422)


def _now() -> datetime:
    return datetime.now(UTC)


@vault_router.post("/registrations", responses=problem_responses(401, 422))
async def start_registration(
    body: RegistrationStartIn, session: DbSession, me: CurrentPrincipal, ctx: Accounts
) -> RegistrationStartOut:
    """OPAQUE registration of a new secret tag: its id and the server's response."""
    tag_id, response = await service.registration_start(session, ctx, me.user_id, body.request)
    return RegistrationStartOut(tag_id=tag_id, response=response)


@vault_router.post(
    "/tags", status_code=status.HTTP_201_CREATED, responses=problem_responses(401, 409, 422)
)
async def create_tag(
    body: SecretTagIn, session: DbSession, me: CurrentPrincipal, ctx: Accounts,
    client: ClientInfo,
) -> SecretTagOut:  # fmt: skip
    """Store the registration record of the tag `registrations` gave an id to."""
    tag = await service.registration_finish(
        session, ctx, me.user_id, body.tag_id, body.record, client
    )
    return SecretTagOut.model_validate(tag, from_attributes=True)


@vault_router.get("/tags", responses=problem_responses(401))
async def list_tags(session: DbSession, me: CurrentPrincipal) -> list[SecretTagOut]:
    """My secret tags (ids only: which phrase opens which is for the client to find out)."""
    tags = await service.list_tags(session, me.user_id)
    return [SecretTagOut.model_validate(tag, from_attributes=True) for tag in tags]


@vault_router.post("/tags/{tag_id}/logins", responses=problem_responses(401, 404, 422, 429, 503))
async def start_login(
    tag_id: uuid.UUID, body: LoginStartIn, session: DbSession, me: CurrentPrincipal,
    ctx: Accounts, client: ClientInfo,
) -> LoginStartOut:  # fmt: skip
    """KE1 → KE2 (answer within a minute). Each counts as a guess until its KE3 proves the
    phrase: throttled per account and per address (429 with Retry-After)."""
    login_id, ke2 = await service.login_start(
        session, ctx, me.user_id, tag_id, body.ke1, client, _now()
    )
    return LoginStartOut(login_id=login_id, ke2=ke2)


@vault_router.post("/tags/{tag_id}/logins/{login_id}", responses=problem_responses(401, 422))
async def finish_login(
    tag_id: uuid.UUID, login_id: uuid.UUID, body: LoginFinishIn, session: DbSession,
    me: CurrentPrincipal, ctx: Accounts, client: ClientInfo,
) -> UnlockedOut:  # fmt: skip
    """KE3 → a vault token for this tag (15 minutes); one KE3 a login."""
    unlocked = await service.login_finish(
        session, ctx, me.user_id, tag_id, login_id, body.ke3, client, _now()
    )
    return UnlockedOut(vault_token=unlocked.token, expires_at=unlocked.expires_at)


@vault_router.get("/tags/{tag_id}/keys", responses=_LOCKED)
async def list_keys(
    tag_id: uuid.UUID, session: DbSession, me: CurrentPrincipal, token: VaultToken = None
) -> list[WrappedKeyOut]:
    await service.unlocked(session, me.user_id, tag_id, token, _now())
    keys = await service.list_keys(session, me.user_id, tag_id)
    return [WrappedKeyOut.model_validate(key, from_attributes=True) for key in keys]


@vault_router.put(
    "/tags/{tag_id}/keys/{key_id}", status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 404, 409, 422),
)  # fmt: skip
async def add_key(
    tag_id: uuid.UUID, key_id: uuid.UUID, body: WrappedKeyIn, session: DbSession,
    me: CurrentPrincipal, token: VaultToken = None,
) -> WrappedKeyOut:  # fmt: skip
    """A data key of the tag, wrapped (AES-KW) by the client; an id is used once."""
    key = await service.add_key(
        session, me.user_id, tag_id, key_id, body.purpose, body.wrapped, token, _now()
    )
    return WrappedKeyOut.model_validate(key, from_attributes=True)


@vault_router.get("/tags/{tag_id}/objects", responses=_LOCKED)
async def list_objects(
    tag_id: uuid.UUID, session: DbSession, me: CurrentPrincipal, token: VaultToken = None
) -> list[BlobListed]:
    await service.unlocked(session, me.user_id, tag_id, token, _now())
    listed = await service.list_objects(session, me.user_id, tag_id)
    return [BlobListed.model_validate(item, from_attributes=True) for item in listed]


@vault_router.put("/tags/{tag_id}/objects/{object_id}", responses=_LOCKED)
async def put_object(
    tag_id: uuid.UUID, object_id: uuid.UUID, body: BlobIn, session: DbSession,
    me: CurrentPrincipal, token: VaultToken = None,
) -> BlobOut:  # fmt: skip
    """Store or replace an encrypted object (AES-256-GCM under one of the tag's keys)."""
    await service.unlocked(session, me.user_id, tag_id, token, _now())
    blob = await service.put_blob(
        session, me.user_id, tag_id, object_id, body.key_id, body.iv, body.ciphertext,
        body.auth_tag, body.content_type,
    )  # fmt: skip
    return BlobOut.model_validate(blob, from_attributes=True)


@vault_router.get("/tags/{tag_id}/objects/{object_id}", responses=_LOCKED)
async def get_object(
    tag_id: uuid.UUID, object_id: uuid.UUID, session: DbSession, me: CurrentPrincipal,
    token: VaultToken = None,
) -> BlobOut:  # fmt: skip
    await service.unlocked(session, me.user_id, tag_id, token, _now())
    blob = await service.get_blob(session, me.user_id, tag_id, object_id)
    return BlobOut.model_validate(blob, from_attributes=True)


@vault_router.delete(
    "/tags/{tag_id}/objects/{object_id}", status_code=status.HTTP_204_NO_CONTENT,
    responses=_LOCKED,
)  # fmt: skip
async def delete_object(
    tag_id: uuid.UUID, object_id: uuid.UUID, session: DbSession, me: CurrentPrincipal,
    token: VaultToken = None,
) -> Response:  # fmt: skip
    await service.unlocked(session, me.user_id, tag_id, token, _now())
    await service.delete_blob(session, me.user_id, tag_id, object_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@vault_router.post("/tags/{tag_id}/phrase-registrations", responses=_LOCKED)
async def start_phrase_change(
    tag_id: uuid.UUID, body: RegistrationStartIn, session: DbSession, me: CurrentPrincipal,
    ctx: Accounts, token: VaultToken = None,
) -> PhraseRegistrationOut:  # fmt: skip
    """The registration response for a new phrase of this (unlocked) tag, made under a new
    random OPRF salt, with the ticket naming it that the change hands back."""
    await service.unlocked(session, me.user_id, tag_id, token, _now())
    response, ticket = await service.phrase_registration(
        session, ctx, me.user_id, tag_id, body.request
    )
    return PhraseRegistrationOut(tag_id=tag_id, response=response, ticket=ticket)


@vault_router.put("/tags/{tag_id}/phrase", responses=problem_responses(401, 404, 409, 422))
async def change_phrase(
    tag_id: uuid.UUID, body: PhraseChangeIn, session: DbSession, me: CurrentPrincipal,
    ctx: Accounts, client: ClientInfo, token: VaultToken = None,
) -> SecretTagOut:  # fmt: skip
    """The new phrase's record and every key re-wrapped, at once (409 if the keys changed
    meanwhile); every unlocked session of the tag ends."""
    await service.unlocked(session, me.user_id, tag_id, token, _now())
    rewrapped = {key.key_id: key.wrapped for key in body.keys}
    if len(rewrapped) != len(body.keys):
        raise VaultMessageInvalid("Each key once.")
    tag = await service.change_phrase(
        session, ctx, me.user_id, tag_id, body.record, body.ticket, body.key_version, rewrapped,
        client,
    )  # fmt: skip
    return SecretTagOut.model_validate(tag, from_attributes=True)


@vault_router.delete("/tags/{tag_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_LOCKED)
async def delete_tag(
    tag_id: uuid.UUID, session: DbSession, me: CurrentPrincipal, ctx: Accounts,
    client: ClientInfo, token: VaultToken = None,
) -> Response:  # fmt: skip
    """The tag with its keys and objects, for good (it must be unlocked)."""
    await service.unlocked(session, me.user_id, tag_id, token, _now())
    await service.delete_tag(session, ctx, me.user_id, tag_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
