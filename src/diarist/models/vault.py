"""The secret vault (docs/vault.md): secret tags unlocked by OPAQUE, their login handshakes
and unlocked sessions, wrapped data keys and encrypted blobs. The server holds nothing it can
read: OPAQUE records, AES-KW-wrapped keys, AES-GCM ciphertexts; no phrase and no hash of one.
None of these tables is in the row audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from diarist.models.base import Base, UUIDv7PrimaryKey, same_user_fk, user_fk


class SecretTag(UUIDv7PrimaryKey, Base):
    """A vault: its OPAQUE registration record (192 bytes) and the version of its keys (a
    change of passphrase re-wraps every key and bumps it, compare-and-swap)."""

    __tablename__ = "secret_tags"
    __table_args__ = (
        UniqueConstraint("user_id", "id", name="uq_secret_tags_user_id_id"),
        CheckConstraint("octet_length(opaque_record) = 192", name="opaque_record_length"),
        CheckConstraint("key_version >= 1", name="key_version"),
        CheckConstraint("octet_length(oprf_salt) = 16", name="oprf_salt_length"),
        CheckConstraint("octet_length(setup_fingerprint) = 8", name="setup_fingerprint_length"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    opaque_record: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer, server_default="1")
    # Chosen at random by each change of phrase (the OPRF key's, with the owner and the id);
    # null while the first phrase stands.
    oprf_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The OPAQUE server setup's its record was made under (vault/keys.py `fingerprint`).
    setup_fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VaultLogin(UUIDv7PrimaryKey, Base):
    """A login between KE2 and KE3: the server's state (session key and expected client MAC)
    sealed with AES-256-GCM, read back once (DELETE … RETURNING), gone after a minute."""

    __tablename__ = "opaque_sessions"
    __table_args__ = (
        same_user_fk("opaque_sessions", "tag_id", "secret_tags", "tag"),
        Index("ix_opaque_sessions_expires_at", "expires_at"),
        CheckConstraint("octet_length(session_data) = 156", name="session_data_length"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    tag_id: Mapped[uuid.UUID]
    session_data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The throttle counter of the address the KE2 went to (a keyed digest, not the address):
    # the KE3 that proves the phrase takes its count back there, wherever it comes from.
    address_key: Mapped[bytes | None] = mapped_column(LargeBinary)


class VaultSession(UUIDv7PrimaryKey, Base):
    """An unlocked vault: a short-lived token (only its SHA-256 kept) that opens one tag's
    keys and blobs; a change of passphrase or deleting the tag ends it."""

    __tablename__ = "vault_sessions"
    __table_args__ = (
        same_user_fk("vault_sessions", "tag_id", "secret_tags", "tag"),
        Index("uq_vault_sessions_token_hash", "token_hash", unique=True),
        Index("ix_vault_sessions_expires_at", "expires_at"),
        CheckConstraint("octet_length(token_hash) = 32", name="token_hash_length"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    tag_id: Mapped[uuid.UUID]
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VaultWrappedKey(UUIDv7PrimaryKey, Base):
    """A data key of a tag, wrapped (AES-KW, RFC 3394) under the key the client derives from
    its OPAQUE export key; `key_version` is the tag's when it was wrapped."""

    __tablename__ = "vault_wrapped_keys"
    __table_args__ = (
        same_user_fk("vault_wrapped_keys", "tag_id", "secret_tags", "tag"),
        UniqueConstraint("tag_id", "key_id", name="uq_vault_wrapped_keys_tag_id_key_id"),
        CheckConstraint("octet_length(wrapped) = 40", name="wrapped_length"),
        CheckConstraint("purpose ~ '^[a-z][a-z0-9_-]{0,31}$'", name="purpose_format"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    tag_id: Mapped[uuid.UUID]
    key_id: Mapped[uuid.UUID]
    purpose: Mapped[str] = mapped_column(Text)
    key_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VaultBlob(UUIDv7PrimaryKey, Base):
    """An encrypted object of a tag: AES-256-GCM under one of its data keys (12-byte IV,
    16-byte tag), its plaintext padded to 256-byte multiples by the client."""

    __tablename__ = "vault_blobs"
    __table_args__ = (
        same_user_fk("vault_blobs", "tag_id", "secret_tags", "tag"),
        UniqueConstraint("tag_id", "object_id", name="uq_vault_blobs_tag_id_object_id"),
        CheckConstraint("octet_length(iv) = 12", name="iv_length"),
        CheckConstraint("octet_length(auth_tag) = 16", name="auth_tag_length"),
        # Padded to 256-byte multiples by the client; at most 16 MiB an object.
        CheckConstraint(
            "mod(octet_length(ciphertext), 256) = 0"
            " AND octet_length(ciphertext) BETWEEN 256 AND 16777216",
            name="ciphertext_padded",
        ),
        CheckConstraint("length(content_type) BETWEEN 1 AND 100", name="content_type_length"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(user_fk())
    tag_id: Mapped[uuid.UUID]
    object_id: Mapped[uuid.UUID]
    key_id: Mapped[uuid.UUID]
    iv: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    auth_tag: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
