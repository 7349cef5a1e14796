"""vault: secret tags (OPAQUE records, key versions), their sealed login handshakes and
unlocked sessions, wrapped data keys and encrypted blobs; owner-only RLS on each; none of them
in the row audit trail

Revision ID: 0027_vault
Revises: 0026_audit_log
Create Date: 2026-12-05 03:45:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.rls import disable_owner_rls
from diarist.db.sql import read_sql

revision: str = "0027_vault"
down_revision: str | None = "0026_audit_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("secret_tags", "opaque_sessions", "vault_sessions", "vault_wrapped_keys", "vault_blobs")
_CREATE = (
    """
CREATE TABLE secret_tags (
    user_id UUID NOT NULL,
    opaque_record BYTEA NOT NULL,
    key_version INTEGER DEFAULT '1' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_secret_tags PRIMARY KEY (id),
    CONSTRAINT uq_secret_tags_user_id_id UNIQUE (user_id, id),
    CONSTRAINT ck_secret_tags_opaque_record_length CHECK (octet_length(opaque_record) = 192),
    CONSTRAINT ck_secret_tags_key_version CHECK (key_version >= 1),
    CONSTRAINT fk_secret_tags_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    """
CREATE TABLE opaque_sessions (
    user_id UUID NOT NULL,
    tag_id UUID NOT NULL,
    session_data BYTEA NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_opaque_sessions PRIMARY KEY (id),
    CONSTRAINT fk_opaque_sessions_tag FOREIGN KEY(user_id, tag_id)
        REFERENCES secret_tags (user_id, id) ON DELETE CASCADE,
    CONSTRAINT ck_opaque_sessions_session_data_length CHECK (octet_length(session_data) = 156),
    CONSTRAINT fk_opaque_sessions_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    "CREATE INDEX ix_opaque_sessions_expires_at ON opaque_sessions (expires_at)",
    """
CREATE TABLE vault_sessions (
    user_id UUID NOT NULL,
    tag_id UUID NOT NULL,
    token_hash BYTEA NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_vault_sessions PRIMARY KEY (id),
    CONSTRAINT fk_vault_sessions_tag FOREIGN KEY(user_id, tag_id)
        REFERENCES secret_tags (user_id, id) ON DELETE CASCADE,
    CONSTRAINT ck_vault_sessions_token_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT fk_vault_sessions_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    "CREATE UNIQUE INDEX uq_vault_sessions_token_hash ON vault_sessions (token_hash)",
    "CREATE INDEX ix_vault_sessions_expires_at ON vault_sessions (expires_at)",
    """
CREATE TABLE vault_wrapped_keys (
    user_id UUID NOT NULL,
    tag_id UUID NOT NULL,
    key_id UUID NOT NULL,
    purpose TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_vault_wrapped_keys PRIMARY KEY (id),
    CONSTRAINT fk_vault_wrapped_keys_tag FOREIGN KEY(user_id, tag_id)
        REFERENCES secret_tags (user_id, id) ON DELETE CASCADE,
    CONSTRAINT uq_vault_wrapped_keys_tag_id_key_id UNIQUE (tag_id, key_id),
    CONSTRAINT ck_vault_wrapped_keys_wrapped_length CHECK (octet_length(wrapped) = 40),
    CONSTRAINT ck_vault_wrapped_keys_purpose_format CHECK (purpose ~ '^[a-z][a-z0-9_-]{0,31}$'),
    CONSTRAINT fk_vault_wrapped_keys_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
    """
CREATE TABLE vault_blobs (
    user_id UUID NOT NULL,
    tag_id UUID NOT NULL,
    object_id UUID NOT NULL,
    key_id UUID NOT NULL,
    iv BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    auth_tag BYTEA NOT NULL,
    content_type TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    id UUID DEFAULT uuidv7() NOT NULL,
    CONSTRAINT pk_vault_blobs PRIMARY KEY (id),
    CONSTRAINT fk_vault_blobs_tag FOREIGN KEY(user_id, tag_id)
        REFERENCES secret_tags (user_id, id) ON DELETE CASCADE,
    CONSTRAINT uq_vault_blobs_tag_id_object_id UNIQUE (tag_id, object_id),
    CONSTRAINT ck_vault_blobs_iv_length CHECK (octet_length(iv) = 12),
    CONSTRAINT ck_vault_blobs_auth_tag_length CHECK (octet_length(auth_tag) = 16),
    CONSTRAINT ck_vault_blobs_ciphertext_padded
        CHECK (mod(octet_length(ciphertext), 256) = 0
        AND octet_length(ciphertext) BETWEEN 256 AND 16777216),
    CONSTRAINT ck_vault_blobs_content_type_length CHECK (length(content_type) BETWEEN 1 AND 100),
    CONSTRAINT fk_vault_blobs_user_id_users FOREIGN KEY(user_id)
        REFERENCES users (id) ON DELETE CASCADE
)
    """,
)


def upgrade() -> None:
    for statement in _CREATE:
        op.execute(statement)
    op.execute(read_sql("vault/policies.sql"))


def downgrade() -> None:
    for table in reversed(_TABLES):
        for statement in disable_owner_rls(table):
            op.execute(statement)
        op.execute(f"DROP TABLE {table}")
