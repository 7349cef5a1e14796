"""audit log: the row audit trail — audit_log partitioned by month (a default partition as a
safety net, this month and three ahead made now), read by its owner through RLS; the
statement-level trigger function and its triggers on every audited table; the SECURITY
DEFINER functions that keep the partitions and erase an account's trail

Revision ID: 0026_audit_log
Revises: 0025_reminders
Create Date: 2026-12-05 03:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

from diarist.db.sql import read_sql

revision: str = "0026_audit_log"
down_revision: str | None = "0025_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDITED = (
    "users",
    "entries",
    "entry_revisions",
    "entry_tags",
    "tags",
    "attachments",
    "reminders",
    "notification_webhooks",
    "calendar_feeds",
    "push_subscriptions",
    "user_identities",
)


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY NOT NULL,
    at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    user_id UUID NOT NULL,
    actor_id UUID,
    actor_role TEXT NOT NULL,
    table_name TEXT NOT NULL,
    operation TEXT NOT NULL,
    row_key TEXT NOT NULL,
    changed TEXT[],
    old_values JSONB,
    new_values JSONB,
    request_id TEXT,
    CONSTRAINT pk_audit_log PRIMARY KEY (at, id),
    CONSTRAINT ck_audit_log_operation CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE'))
) PARTITION BY RANGE (at)
        """
    )
    op.execute("CREATE INDEX ix_audit_log_user_id_at ON audit_log (user_id, at, id)")
    op.execute("CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT")
    op.execute(read_sql("audit/policies.sql"))
    op.execute(read_sql("audit/audit_rows.sql"))
    op.execute(read_sql("audit/partitions.sql"))
    op.execute(read_sql("audit/triggers.sql"))
    # This month and three ahead (the owner bypasses RLS, as the function asks); it closes
    # the trail to every other role (audit_close).
    op.execute("SELECT audit_partitions_ensure(3)")


def downgrade() -> None:
    for table in AUDITED:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_audit_{event} ON {table}")
    for function in (
        *(f"audit_{table}()" for table in AUDITED),
        "audit_close()",
        "audit_erasing()",  # defined by triggers.sql since revision 0033
        "audit_require_system()",
        "audit_is_system()",
        "audit_forget(uuid)",
        "audit_partitions_drop(date)",
        "audit_partitions_ensure(integer)",
        "audit_hash(text)",
        "audit_pick(jsonb, text[])",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TABLE IF EXISTS audit_log")
