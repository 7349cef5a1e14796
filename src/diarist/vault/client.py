"""The client half of the vault, in Python (`diarist vault`, the tests): everything the
server must never see happens here — the passphrase (OPAQUE through opaque-snake), the export
key and the key it derives, the data keys, the plaintext.

Key hierarchy: OPAQUE's export key → HKDF-SHA256(info = "diarist/vault/kek/v1" ‖ user id ‖
tag id) → the tag's key-encryption key (KEK); random 256-bit data keys wrapped under it with
AES-KW (RFC 3394); each object AES-256-GCM under a data key, its AAD binding the user, the
tag, the object and its content type, its plaintext padded (ISO/IEC 7816-4) to a multiple of
256 bytes so that its length says little.
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import opaque_snake
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

PAD = 256
_KEK_INFO = b"diarist/vault/kek/v1"
_AAD = b"diarist/vault/object/v1"
BASE = "/api/v1/vault"


class VaultClientError(RuntimeError):
    """A phrase that opens no tag, or an answer of the server's that is not what it should be."""


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def kek_of(export_key: bytes, user_id: uuid.UUID, tag_id: uuid.UUID) -> bytes:
    info = _KEK_INFO + user_id.bytes + tag_id.bytes
    return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(export_key)


def pad(plaintext: bytes) -> bytes:
    padded = plaintext + b"\x80"
    return padded + bytes(-len(padded) % PAD)


def unpad(padded: bytes) -> bytes:
    stripped = padded.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise VaultClientError("the object's padding is broken")
    return stripped[:-1]


def _aad(user_id: uuid.UUID, tag_id: uuid.UUID, object_id: uuid.UUID, content_type: str) -> bytes:
    return _AAD + user_id.bytes + tag_id.bytes + object_id.bytes + content_type.encode()


def seal_object(
    data_key: bytes, user_id: uuid.UUID, tag_id: uuid.UUID, object_id: uuid.UUID,
    content_type: str, plaintext: bytes,
) -> tuple[bytes, bytes, bytes]:  # fmt: skip
    """(iv, ciphertext, auth tag) of an object."""
    iv = os.urandom(12)
    sealed = AESGCM(data_key).encrypt(
        iv, pad(plaintext), _aad(user_id, tag_id, object_id, content_type)
    )
    return iv, sealed[:-16], sealed[-16:]


def open_object(
    data_key: bytes, user_id: uuid.UUID, tag_id: uuid.UUID, object_id: uuid.UUID,
    content_type: str, iv: bytes, ciphertext: bytes, auth_tag: bytes,
) -> bytes:  # fmt: skip
    aad = _aad(user_id, tag_id, object_id, content_type)
    return unpad(AESGCM(data_key).decrypt(iv, ciphertext + auth_tag, aad))


@dataclass(frozen=True)
class Unlocked:
    """An unlocked tag: its id, the server's vault token, and the KEK (never sent)."""

    tag_id: uuid.UUID
    token: str
    kek: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Vault-Token": self.token}


class VaultClient:
    """The vault's flows against a diarist server, as the signed-in user `auth` says."""

    def __init__(self, http: httpx.AsyncClient, auth: dict[str, str], user_id: uuid.UUID) -> None:
        self.http, self.auth, self.user_id = http, auth, user_id

    async def _call(
        self, method: str, path: str, expect: int, headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> Any:  # fmt: skip
        answer = await self.http.request(
            method, BASE + path, json=json, headers={**self.auth, **(headers or {})}
        )
        if answer.status_code != expect:
            raise VaultClientError(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
        return answer.json() if answer.content else None

    async def register(self, phrase: str) -> uuid.UUID:
        """A new secret tag opened by `phrase`; its id."""
        client = opaque_snake.OpaqueClient()
        request, state = client.start_registration(phrase)
        started = await self._call("POST", "/registrations", 200,
                                   json={"request": b64(request.to_bytes())})  # fmt: skip
        response = opaque_snake.RegistrationResponse.from_bytes(unb64(started["response"]))
        done = client.finish_registration(response, state, phrase)
        record = b64(done.upload.to_bytes())
        await self._call("POST", "/tags", 201, json={"tag_id": started["tag_id"], "record": record})
        return uuid.UUID(started["tag_id"])

    async def unlock(self, tag_id: uuid.UUID, phrase: str) -> Unlocked | None:
        """The tag unlocked by `phrase`, or None when the phrase is not its."""
        client = opaque_snake.OpaqueClient()
        ke1, state = client.start_login(phrase)
        started = await self._call("POST", f"/tags/{tag_id}/logins", 200,
                                   json={"ke1": b64(ke1.to_bytes())})  # fmt: skip
        try:
            result = client.finish_login(
                opaque_snake.CredentialResponse.from_bytes(unb64(started["ke2"])), state, phrase
            )
        except opaque_snake.OpaqueError:
            return None
        done = await self._call(
            "POST", f"/tags/{tag_id}/logins/{started['login_id']}", 200,
            json={"ke3": b64(result.finalization.to_bytes())},
        )  # fmt: skip
        export_key = result.session_keys.export_key
        if export_key is None:
            raise VaultClientError("the login gave no export key")
        return Unlocked(
            tag_id, done["vault_token"], kek_of(bytes(export_key), self.user_id, tag_id)
        )

    async def find(self, phrase: str) -> Unlocked | None:
        """The tag `phrase` opens, tried one by one (the server has no phrase hash to look up)."""
        for tag in await self._call("GET", "/tags", 200):
            found = await self.unlock(uuid.UUID(tag["id"]), phrase)
            if found is not None:
                return found
        return None

    async def _data_key(self, unlocked: Unlocked) -> tuple[uuid.UUID, bytes]:
        """The tag's data key (made and wrapped on first use)."""
        path = f"/tags/{unlocked.tag_id}/keys"
        for key in await self._call("GET", path, 200, unlocked.headers):
            return uuid.UUID(key["key_id"]), aes_key_unwrap(unlocked.kek, unb64(key["wrapped"]))
        key_id, data_key = uuid.uuid4(), os.urandom(32)
        await self._call("PUT", f"{path}/{key_id}", 201, unlocked.headers,
                         json={"wrapped": b64(aes_key_wrap(unlocked.kek, data_key))})  # fmt: skip
        return key_id, data_key

    async def store(
        self, unlocked: Unlocked, plaintext: bytes, content_type: str,
        object_id: uuid.UUID | None = None,
    ) -> uuid.UUID:  # fmt: skip
        """Encrypt and store an object (a new one, or replace `object_id`); its id."""
        object_id = object_id or uuid.uuid4()
        key_id, data_key = await self._data_key(unlocked)
        iv, ciphertext, auth_tag = seal_object(
            data_key, self.user_id, unlocked.tag_id, object_id, content_type, plaintext
        )
        await self._call(
            "PUT", f"/tags/{unlocked.tag_id}/objects/{object_id}", 200, unlocked.headers,
            json={"key_id": str(key_id), "iv": b64(iv), "ciphertext": b64(ciphertext),
                  "auth_tag": b64(auth_tag), "content_type": content_type},
        )  # fmt: skip
        return object_id

    async def list_objects(self, unlocked: Unlocked) -> list[dict[str, Any]]:
        """The tag's objects (ids, content types, sizes), without their contents."""
        found: list[dict[str, Any]] = await self._call(
            "GET", f"/tags/{unlocked.tag_id}/objects", 200, unlocked.headers
        )
        return found

    async def read(self, unlocked: Unlocked, object_id: uuid.UUID) -> tuple[str, bytes]:
        """An object's content type and plaintext."""
        found = await self._call(
            "GET", f"/tags/{unlocked.tag_id}/objects/{object_id}", 200, unlocked.headers
        )
        keys = await self._call("GET", f"/tags/{unlocked.tag_id}/keys", 200, unlocked.headers)
        wrapped = next((unb64(k["wrapped"]) for k in keys if k["key_id"] == found["key_id"]), None)
        if wrapped is None:
            raise VaultClientError("the object's key is not among the tag's keys")
        try:
            data_key = aes_key_unwrap(unlocked.kek, wrapped)
            plaintext = open_object(
                data_key, self.user_id, unlocked.tag_id, object_id, found["content_type"],
                unb64(found["iv"]), unb64(found["ciphertext"]), unb64(found["auth_tag"]),
            )  # fmt: skip
        except (InvalidTag, InvalidUnwrap):
            raise VaultClientError("the object or its key was altered: it does not open") from None
        return found["content_type"], plaintext

    async def change_phrase(self, unlocked: Unlocked, new_phrase: str) -> None:
        """Register the new phrase on the same tag and re-wrap every key under its KEK, at
        once; the server ends every unlocked session of the tag (unlock again after)."""
        tags = {tag["id"]: tag for tag in await self._call("GET", "/tags", 200)}
        version = tags[str(unlocked.tag_id)]["key_version"]
        client = opaque_snake.OpaqueClient()
        request, state = client.start_registration(new_phrase)
        started = await self._call(
            "POST", f"/tags/{unlocked.tag_id}/phrase-registrations", 200, unlocked.headers,
            json={"request": b64(request.to_bytes())},
        )  # fmt: skip
        response = opaque_snake.RegistrationResponse.from_bytes(unb64(started["response"]))
        done = client.finish_registration(response, state, new_phrase)
        new_kek = kek_of(bytes(done.export_key), self.user_id, unlocked.tag_id)
        keys = await self._call("GET", f"/tags/{unlocked.tag_id}/keys", 200, unlocked.headers)
        rewrapped = []
        for key in keys:
            data_key = aes_key_unwrap(unlocked.kek, unb64(key["wrapped"]))
            rewrapped.append(
                {"key_id": key["key_id"], "wrapped": b64(aes_key_wrap(new_kek, data_key))}
            )
        await self._call(
            "PUT", f"/tags/{unlocked.tag_id}/phrase", 200, unlocked.headers,
            json={"record": b64(done.upload.to_bytes()), "ticket": started["ticket"],
                  "key_version": version, "keys": rewrapped},
        )  # fmt: skip
