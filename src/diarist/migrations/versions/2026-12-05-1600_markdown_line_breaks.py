"""markdown line breaks: the plain text of Markdown and EditorJS entries derived again, now
that a line break keeps the words on either side apart (Markdown's "rain\\nsoup" and
EditorJS's "rain<br>soup" were "rainsoup") and a Markdown image's alt text counts; changed
entries are queued for analysis again (one analysis batch job for up to 500 of a user's)

Revision ID: 0035_markdown_line_breaks
Revises: 0034_vault_login_address
Create Date: 2026-12-05 16:00:00.000000+00:00
"""

import json
from collections import defaultdict
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
    "SELECT id, user_id, raw_data, content FROM entries"
    " WHERE format IN ('markdown', 'editorjs') AND id > :last ORDER BY id LIMIT :limit"
)
# One statement a batch (the row audit and statistics marks run once for it; the vocabulary
# log once a changed row). `pending` until the analysis of the new text.
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
# The analysis of the new texts, queued as the import queues it: one `analysis:analyze_batch`
# job (names as they were at this revision) for up to 500 entries of one user, which the
# worker turns into each entry's job.
_DEFER = sa.text("SELECT diarist_defer_jobs(CAST(:jobs AS jsonb))")
_PER_JOB = 500


def upgrade() -> None:
    # `derive` as it is now: this revision brings stored text up to the rules of this release
    # (a later change of the rules brings its own revision).
    connection = op.get_bind()
    last = "00000000-0000-0000-0000-000000000000"
    while rows := connection.execute(_READ, {"last": last, "limit": _BATCH}).all():
        changed: list[dict[str, object]] = []
        by_user: defaultdict[str, list[str]] = defaultdict(list)
        for entry_id, user_id, raw_data, content in rows:
            try:
                derived = derive(raw_data)
            except InvalidRawData:  # stored before a check it fails: left as it is
                continue
            if derived.content != content:
                changed.append({
                    "id": str(entry_id), "content": derived.content,
                    "content_hash": derived.content_hash.hex(), "word_count": derived.word_count,
                })  # fmt: skip
                by_user[str(user_id)].append(str(entry_id))
        if changed:
            connection.execute(_WRITE, {"rows": json.dumps(changed)})
            jobs = [
                {"queue_name": "analysis", "task_name": "analysis:analyze_batch",
                 "lock": None, "queueing_lock": None,
                 "args": {"user_id": user_id, "entry_ids": ids[start : start + _PER_JOB]}}
                for user_id, ids in by_user.items()
                for start in range(0, len(ids), _PER_JOB)
            ]  # fmt: skip
            connection.execute(_DEFER, {"jobs": json.dumps(jobs)})
        last = str(rows[-1][0])


def downgrade() -> None:
    # The text stays as derived now: the earlier code reads it as any other text (gluing the
    # words of two lines together again would only bring the defect back).
    pass
