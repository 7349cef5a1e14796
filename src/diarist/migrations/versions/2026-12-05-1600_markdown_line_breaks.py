"""markdown line breaks: the plain text of Markdown and EditorJS entries derived again, now
that a line break keeps the words on either side apart (Markdown's "rain\\nsoup" and
EditorJS's "rain<br>soup" were "rainsoup") and a Markdown image's alt text counts; changed
entries are queued for analysis again (the sweeper picks them up)

Revision ID: 0035_markdown_line_breaks
Revises: 0034_vault_login_address
Create Date: 2026-12-05 16:00:00.000000+00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from diarist.journal.content import derive
from diarist.journal.errors import InvalidRawData

revision: str = "0035_markdown_line_breaks"
down_revision: str | None = "0034_vault_login_address"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
_READ = sa.text(
    "SELECT id, raw_data, content FROM entries"
    " WHERE format IN ('markdown', 'editorjs') AND id > :last ORDER BY id LIMIT :limit"
)
# One statement a batch (the row audit, vocabulary log and statistics marks run once for it).
# `pending` with a fresh request time: the analysis sweeper queues the new text.
_WRITE = sa.text(
    """
    UPDATE entries e
    SET content = r.content, content_hash = decode(r.content_hash, 'hex'),
        word_count = r.word_count, processing_status = 'pending', analysis_requested_at = now()
    FROM json_to_recordset(CAST(:rows AS json))
        AS r(id uuid, content text, content_hash text, word_count integer)
    WHERE e.id = r.id
    """
)


def upgrade() -> None:
    connection = op.get_bind()
    last = "00000000-0000-0000-0000-000000000000"
    while rows := connection.execute(_READ, {"last": last, "limit": _BATCH}).all():
        changed = []
        for entry_id, raw_data, content in rows:
            try:
                derived = derive(raw_data)
            except InvalidRawData:  # stored before a check it fails: left as it is
                continue
            if derived.content != content:
                changed.append({
                    "id": str(entry_id), "content": derived.content,
                    "content_hash": derived.content_hash.hex(), "word_count": derived.word_count,
                })  # fmt: skip
        if changed:
            connection.execute(_WRITE, {"rows": json.dumps(changed)})
        last = str(rows[-1][0])


def downgrade() -> None:
    # The text stays as derived now: the earlier code reads it as any other text (gluing the
    # words of two lines together again would only bring the defect back).
    pass
