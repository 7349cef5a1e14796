"""The rules of the vault (docs/vault.md): registering a secret tag by OPAQUE, unlocking it
(KE1 → KE2 with the server's state sealed in the database, KE3 → a short-lived vault token),
the encrypted blobs and wrapped keys an unlocked tag holds, a change of passphrase (every key
re-wrapped at once, compare-and-swap on the key version), deleting a tag. The server handles
only ciphertexts, OPAQUE messages and records. Services never commit; `now` is given."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts.errors import TooManyAttempts
from diarist.accounts.service import (
    AccountsContext,
    Client,
    check_throttle,
    forgive_attempt,
    record_event,
    record_failed_attempt,
)
from diarist.kit.tokens import new_token, token_digest
from diarist.models import SecretTag, VaultBlob, VaultLogin, VaultSession, VaultWrappedKey
from diarist.vault import keys
from diarist.vault import repository as repo
from diarist.vault.errors import (
    KeyVersionConflict,
    SecretTagExists,
    SecretTagNotFound,
    VaultLocked,
    VaultLoginFailed,
    VaultMessageInvalid,
    VaultObjectNotFound,
    VaultSetupChanged,
    VaultThrottled,
)
from diarist.vault.opaque import (
    LoginState,
    OpaqueError,
    Record,
    registration_response,
    server_finish,
    server_ke2,
)

_log = structlog.get_logger("diarist.vault")
TOKEN_PREFIX = "dvt_"  # noqa: S105 (a prefix, not a secret)
# A KE2 must be answered within this; an unlocked tag stays open this long.
LOGIN_TTL = timedelta(seconds=60)
SESSION_TTL = timedelta(minutes=15)
_NONCE = 12


_SALT = 16


def credential_identifier(user_id: uuid.UUID, tag_id: uuid.UUID, salt: bytes | None) -> bytes:
    """OPAQUE's credential identifier of a tag, from which its OPRF key is derived: its owner,
    itself and, once its phrase has changed, the random salt of that change — so a phrase's
    OPRF key is never the one of the phrase before or after it (docs/vault.md)."""
    return user_id.bytes + tag_id.bytes + (salt or b"")


def _account_key(ctx: AccountsContext, user_id: uuid.UUID) -> tuple[str, bytes]:
    return "account", ctx.keyring.identifier_digest("account", f"vault:{user_id}")


def _throttle_keys(
    ctx: AccountsContext, user_id: uuid.UUID, client: Client
) -> list[tuple[str, bytes]]:
    """Every KE2 is an online guess until its KE3 proves the phrase: counted per account and
    per address (apart from the password's counters)."""
    found = [_account_key(ctx, user_id)]
    if client.ip:
        found.append(("ip", ctx.keyring.identifier_digest("ip", f"vault:{client.ip}")))
    return found


def _aad(login_id: uuid.UUID, user_id: uuid.UUID, tag_id: uuid.UUID, expires: datetime) -> bytes:
    # The expiry as microseconds since the epoch: the same whatever zone the database's
    # session hands the timestamp back in.
    micros = round(expires.timestamp() * 1_000_000)
    return login_id.bytes + user_id.bytes + tag_id.bytes + micros.to_bytes(8, "big")


def _seal(ctx: AccountsContext, plain: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    key = keys.sealing_keys(ctx.settings.data_dir)[0]
    return nonce + AESGCM(key).encrypt(nonce, plain, aad)


def _unseal(ctx: AccountsContext, sealed: bytes, aad: bytes) -> bytes | None:
    for key in keys.sealing_keys(ctx.settings.data_dir):
        try:
            return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
        except InvalidTag:
            continue
    return None


def _ticket_aad(user_id: uuid.UUID, tag_id: uuid.UUID, key_version: int) -> bytes:
    version = key_version.to_bytes(4, "big")
    return b"diarist/vault/phrase-ticket/v1" + user_id.bytes + tag_id.bytes + version


async def registration_start(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, request: bytes
) -> tuple[uuid.UUID, bytes]:
    """A new tag's id and the OPAQUE registration response for it (nothing is stored yet)."""
    tag_id = await repo.new_id(session)
    setup = keys.server_setup(ctx.settings.data_dir)
    try:
        response = registration_response(
            setup, request, credential_identifier(user_id, tag_id, None)
        )
    except OpaqueError as exc:
        raise VaultMessageInvalid(f"Not a registration request: {exc}.") from None
    return tag_id, response


def _record(upload: bytes) -> Record:
    try:
        return Record.from_upload(upload)
    except OpaqueError as exc:
        raise VaultMessageInvalid(f"Not a registration record: {exc}.") from None


async def registration_finish(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, tag_id: uuid.UUID,
    upload: bytes, client: Client,
) -> SecretTag:  # fmt: skip
    record = _record(upload)
    setup = keys.fingerprint(keys.server_setup(ctx.settings.data_dir))
    tag = SecretTag(id=tag_id, user_id=user_id, opaque_record=record.to_bytes(),
                    setup_fingerprint=setup)  # fmt: skip
    session.add(tag)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise SecretTagExists("A secret tag with this id exists.") from None
    await session.refresh(tag)
    await record_event(session, ctx, user_id, "vault_tag_created", client, tag_id=str(tag_id))
    return tag


async def _tag(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID,
    lock: Literal["share", "update"] | None = None,
) -> SecretTag:  # fmt: skip
    tag = await repo.get_tag(session, user_id, tag_id, lock)
    if tag is None:
        raise SecretTagNotFound()
    return tag


async def login_start(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, tag_id: uuid.UUID,
    ke1: bytes, client: Client, now: datetime,
) -> tuple[uuid.UUID, bytes]:  # fmt: skip
    """KE2 for a KE1, the server's state sealed into `opaque_sessions` for a minute; counted
    as a guess (429 while the account's or the address's counter is blocked). The tag is
    locked (shared) to the end: a change of phrase waits for this login to be written, and so
    ends it, or has committed first, and this login is of the new record."""
    tag = await _tag(session, user_id, tag_id, lock="share")
    throttle = _throttle_keys(ctx, user_id, client)
    try:
        await check_throttle(session, ctx, throttle)
    except TooManyAttempts as exc:
        await record_event(session, ctx, user_id, "vault_login_throttled", client,
                           once_in_a_row=True, tag_id=str(tag_id))  # fmt: skip
        raise VaultThrottled(exc) from None
    setup = keys.server_setup(ctx.settings.data_dir)
    if tag.setup_fingerprint is not None and tag.setup_fingerprint != keys.fingerprint(setup):
        _log.error("vault_setup_changed", tag_id=str(tag_id))
        raise VaultSetupChanged()
    try:
        ke2, state = server_ke2(
            setup,
            Record.from_upload(tag.opaque_record),
            credential_identifier(user_id, tag_id, tag.oprf_salt),
            ke1,
        )
    except OpaqueError as exc:
        raise VaultMessageInvalid(f"Not a KE1: {exc}.") from None
    await record_failed_attempt(session, ctx, throttle)  # forgiven by the KE3 that proves it
    # A wrong phrase never comes back (the client finds it out from KE2 and sends no KE3):
    # this event, unanswered by a `vault_unlocked`, is what an audit sees of a guess.
    await record_event(session, ctx, user_id, "vault_login_started", client, tag_id=str(tag_id))
    login_id = await repo.new_id(session)
    expires = now + LOGIN_TTL
    sealed = _seal(ctx, state.to_bytes(), _aad(login_id, user_id, tag_id, expires))
    address = dict(throttle).get("ip")
    session.add(VaultLogin(id=login_id, user_id=user_id, tag_id=tag_id, session_data=sealed,
                           expires_at=expires, address_key=address))  # fmt: skip
    await session.flush()
    return login_id, ke2


@dataclass(frozen=True)
class Unlocked:
    token: str
    expires_at: datetime


async def login_finish(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, tag_id: uuid.UUID,
    login_id: uuid.UUID, ke3: bytes, client: Client, now: datetime,
) -> Unlocked:  # fmt: skip
    """A vault token for a KE3 that proves the phrase; the handshake is used up either way.
    The tag is locked (shared) first, so a change of phrase never misses the session this
    makes (it waits for it, and ends it) nor lets a login of the old phrase finish after it."""
    await repo.get_tag(session, user_id, tag_id, lock="share")
    taken = await repo.take_login(session, user_id, tag_id, login_id, now)
    if taken is None:
        raise VaultLoginFailed("No such login waits (it was used, or a minute has passed).")
    sealed, expires, address = taken
    opened = _unseal(ctx, sealed, _aad(login_id, user_id, tag_id, expires))
    try:
        if opened is None:
            raise OpaqueError("its state cannot be opened")
        server_finish(LoginState.from_bytes(opened), ke3)
    except OpaqueError:
        await record_event(session, ctx, user_id, "vault_login_failed", client, tag_id=str(tag_id))
        raise VaultLoginFailed("The phrase was not proven.") from None
    # The counts the KE2 added: its account's, and its address's (not this request's).
    await forgive_attempt(
        session, [_account_key(ctx, user_id)] + ([("ip", address)] if address else [])
    )
    await record_event(session, ctx, user_id, "vault_unlocked", client, tag_id=str(tag_id))
    token = new_token(TOKEN_PREFIX)
    until = now + SESSION_TTL
    session.add(VaultSession(user_id=user_id, tag_id=tag_id, token_hash=token_digest(token),
                                  expires_at=until))  # fmt: skip
    await session.flush()
    return Unlocked(token, until)


async def unlocked(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, token: str | None,
    now: datetime,
) -> None:  # fmt: skip
    """Refuse (401 `vault_locked`) unless `token` opens this tag now."""
    if not token or not await repo.open_session(session, user_id, tag_id, token_digest(token), now):
        raise VaultLocked()


async def put_blob(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, object_id: uuid.UUID,
    key_id: uuid.UUID, iv: bytes, ciphertext: bytes, auth_tag: bytes, content_type: str,
) -> VaultBlob:  # fmt: skip
    """Store (or replace) an encrypted object; its key must be one of the tag's."""
    if key_id not in {key.key_id for key in await repo.list_keys(session, user_id, tag_id)}:
        raise VaultObjectNotFound("No wrapped key of this tag has this key_id.")
    values = {"user_id": user_id, "tag_id": tag_id, "object_id": object_id, "key_id": key_id,
              "iv": iv, "ciphertext": ciphertext, "auth_tag": auth_tag,
              "content_type": content_type}  # fmt: skip
    return await repo.put_blob(session, values)


async def get_blob(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, object_id: uuid.UUID
) -> VaultBlob:
    blob = await repo.get_blob(session, user_id, tag_id, object_id)
    if blob is None:
        raise VaultObjectNotFound("No object of this tag has this id.")
    return blob


async def delete_blob(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, object_id: uuid.UUID
) -> None:
    if not await repo.delete_blob(session, user_id, tag_id, object_id):
        raise VaultObjectNotFound("No object of this tag has this id.")


async def add_key(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID, key_id: uuid.UUID,
    purpose: str, wrapped: bytes, token: str | None, now: datetime,
) -> VaultWrappedKey:  # fmt: skip
    """A new wrapped data key (wrapped under the tag's current key version); an id once.
    The tag is locked (shared) before the vault token is checked: a change of phrase running
    meanwhile either waits for this key (and then refuses, for it did not re-wrap it) or has
    ended this token first (401), so no key stays wrapped under a phrase that is gone."""
    tag = await _tag(session, user_id, tag_id, lock="share")
    await unlocked(session, user_id, tag_id, token, now)
    values = {"user_id": user_id, "tag_id": tag_id, "key_id": key_id, "purpose": purpose,
              "key_version": tag.key_version, "wrapped": wrapped}  # fmt: skip
    made = await repo.put_key(session, values)
    if made is None:
        raise SecretTagExists("This tag has a key with this id (keys are not replaced).")
    return made


async def list_keys(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID
) -> list[VaultWrappedKey]:
    return await repo.list_keys(session, user_id, tag_id)


async def change_phrase(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, tag_id: uuid.UUID,
    upload: bytes, ticket: bytes, key_version: int, rewrapped: dict[uuid.UUID, bytes],
    client: Client,
) -> SecretTag:  # fmt: skip
    """The new phrase's OPAQUE record and every key re-wrapped under it, in one transaction:
    refused unless the tag is still at `key_version` (409) and every key of the tag, and
    only those, is re-wrapped (422), and `ticket` is the one the registration round trip gave
    for this version (422); every unlocked session and pending login of the tag ends."""
    record = _record(upload)
    salt = _unseal(ctx, ticket, _ticket_aad(user_id, tag_id, key_version))
    if salt is None or len(salt) != _SALT:
        raise VaultMessageInvalid(
            "The ticket is not one this server gave for this tag at this key version."
        )
    # Locked first: no key can be added (add_key shares this lock) between the check below
    # and the swap.
    tag = await _tag(session, user_id, tag_id, lock="update")
    if tag.key_version != key_version:
        raise KeyVersionConflict("The tag's keys changed meanwhile: unlock it and start again.")
    current = {key.key_id for key in await repo.list_keys(session, user_id, tag_id)}
    if set(rewrapped) != current:
        raise VaultMessageInvalid("Re-wrap every key of the tag, and only those, at once.")
    setup = keys.fingerprint(keys.server_setup(ctx.settings.data_dir))
    await repo.swap_record(session, user_id, tag_id, record.to_bytes(), salt, setup, key_version)
    for key_id, wrapped in rewrapped.items():
        await repo.rewrap_key(session, user_id, tag_id, key_id, wrapped, key_version + 1)
    await repo.end_sessions(session, user_id, tag_id)
    await record_event(session, ctx, user_id, "vault_phrase_changed", client, tag_id=str(tag_id))
    return await _tag(session, user_id, tag_id)


async def delete_tag(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, tag_id: uuid.UUID,
    client: Client,
) -> None:  # fmt: skip
    """The tag, its keys and its blobs, gone for good."""
    if not await repo.delete_tag(session, user_id, tag_id):
        raise SecretTagNotFound()
    await record_event(session, ctx, user_id, "vault_tag_deleted", client, tag_id=str(tag_id))


async def list_tags(session: AsyncSession, user_id: uuid.UUID) -> list[SecretTag]:
    return await repo.list_tags(session, user_id)


@dataclass(frozen=True)
class Listed:
    object_id: uuid.UUID
    key_id: uuid.UUID
    content_type: str
    size: int
    updated_at: datetime


async def list_objects(
    session: AsyncSession, user_id: uuid.UUID, tag_id: uuid.UUID
) -> list[Listed]:
    """The tag's objects without their ciphertexts."""
    return [Listed(*row) for row in await repo.list_blobs(session, user_id, tag_id)]


async def phrase_registration(
    session: AsyncSession, ctx: AccountsContext, user_id: uuid.UUID, tag_id: uuid.UUID,
    request: bytes,
) -> tuple[bytes, bytes]:  # fmt: skip
    """The registration response for a new phrase of an existing tag, under a fresh random
    salt, and the ticket that carries that salt (sealed to this tag and its key version) to
    the change. Every round trip evaluates under a new OPRF key, so these responses tell
    nothing about the key of the phrase in use (nor of any phrase to come)."""
    tag = await _tag(session, user_id, tag_id)
    salt = os.urandom(_SALT)
    setup = keys.server_setup(ctx.settings.data_dir)
    try:
        response = registration_response(
            setup, request, credential_identifier(user_id, tag_id, salt)
        )
    except OpaqueError as exc:
        raise VaultMessageInvalid(f"Not a registration request: {exc}.") from None
    return response, _seal(ctx, salt, _ticket_aad(user_id, tag_id, tag.key_version))
