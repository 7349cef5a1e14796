"""Request and response shapes of the vault (docs/vault.md). Binary fields are base64url
(padding optional); the server checks their sizes, never what they hide."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, field_validator

from diarist.kit.validation import StrictInput

# A blob's ciphertext: at most 16 MiB (the plaintext padded to 256-byte multiples).
MAX_CIPHERTEXT = 16 * 1024 * 1024


def _decoded(size: int | None = None, *, most: int | None = None):  # type: ignore[no-untyped-def]
    def decode(value: object) -> bytes:
        if not isinstance(value, str) or len(value) > 4 * ((most or size or 0) + 3) // 3 + 4:
            raise ValueError("base64url text of the expected size")
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raise ValueError("not base64url") from None
        if size is not None and len(raw) != size:
            raise ValueError(f"{size} bytes")
        if most is not None and not 0 < len(raw) <= most:
            raise ValueError(f"1 to {most} bytes")
        return raw

    return BeforeValidator(decode)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# A phrase registration's ticket: AES-GCM nonce, the 16-byte salt, the tag.
TICKET_SIZE = 12 + 16 + 16

Encoded = Annotated[bytes, PlainSerializer(b64, return_type=str)]


class RegistrationStartIn(StrictInput):
    request: Annotated[bytes, _decoded(32)]


class RegistrationStartOut(BaseModel):
    tag_id: uuid.UUID
    response: Encoded


class PhraseRegistrationOut(RegistrationStartOut):
    """A registration response for a new phrase, and the ticket (sealed by the server) that
    the change of phrase hands back: it names the OPRF salt this response was made under."""

    ticket: Encoded


class SecretTagIn(StrictInput):
    tag_id: uuid.UUID
    record: Annotated[bytes, _decoded(192)]


class SecretTagOut(BaseModel):
    id: uuid.UUID
    key_version: int
    created_at: datetime
    updated_at: datetime


class LoginStartIn(StrictInput):
    ke1: Annotated[bytes, _decoded(96)]


class LoginStartOut(BaseModel):
    login_id: uuid.UUID
    ke2: Encoded


class LoginFinishIn(StrictInput):
    ke3: Annotated[bytes, _decoded(64)]


class UnlockedOut(BaseModel):
    # Send it as `X-Vault-Token` to this tag's keys and objects; shown once.
    vault_token: str
    expires_at: datetime


class WrappedKeyIn(StrictInput):
    purpose: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = "data"
    wrapped: Annotated[bytes, _decoded(40)]


class WrappedKeyOut(BaseModel):
    key_id: uuid.UUID
    purpose: str
    key_version: int
    wrapped: Encoded


class BlobIn(StrictInput):
    key_id: uuid.UUID
    iv: Annotated[bytes, _decoded(12)]
    ciphertext: Annotated[bytes, _decoded(most=MAX_CIPHERTEXT)]
    auth_tag: Annotated[bytes, _decoded(16)]
    content_type: Annotated[str, Field(min_length=1, max_length=100)]

    @field_validator("ciphertext")
    @classmethod
    def _padded(cls, value: bytes) -> bytes:
        if len(value) % 256:
            raise ValueError("the plaintext is padded to a multiple of 256 bytes")
        return value


class BlobOut(BaseModel):
    object_id: uuid.UUID
    key_id: uuid.UUID
    iv: Encoded
    ciphertext: Encoded
    auth_tag: Encoded
    content_type: str
    updated_at: datetime


class BlobListed(BaseModel):
    object_id: uuid.UUID
    key_id: uuid.UUID
    content_type: str
    size: int
    updated_at: datetime


class RewrappedKey(StrictInput):
    key_id: uuid.UUID
    wrapped: Annotated[bytes, _decoded(40)]


class PhraseChangeIn(StrictInput):
    """The new phrase's registration record and the ticket of the registration round trip it
    came from (on this tag), and every key re-wrapped under it; `key_version` is the tag's as
    the client read it."""

    record: Annotated[bytes, _decoded(192)]
    ticket: Annotated[bytes, _decoded(TICKET_SIZE)]
    key_version: Annotated[int, Field(ge=1)]
    keys: Annotated[list[RewrappedKey], Field(max_length=10_000)]
