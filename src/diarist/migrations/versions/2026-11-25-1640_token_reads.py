"""token reads: resolving a bearer token writes nothing and returns the user's preferences;
activity is recorded by a separate function after the response

Revision ID: 0007_token_reads
Revises: 0006_statistics
Create Date: 2026-11-25 16:40:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_token_reads"
down_revision: str | None = "0006_statistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A read: check the token, set the tenant, and say whether its activity is a minute old.
_RESOLVE = """
CREATE FUNCTION auth_resolve_token(p_token_hash bytea)
RETURNS TABLE (token_id uuid, user_id uuid, kind text, scope text, preferences jsonb,
               needs_touch boolean)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    hit record;
BEGIN
    SELECT t.id, t.user_id, t.kind, t.scope, t.last_used_at, u.preferences INTO hit
    FROM auth_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = p_token_hash
      AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
      AND (t.absolute_expires_at IS NULL OR t.absolute_expires_at > now())
      AND u.is_active;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('diarist.user_id', hit.user_id::text, true);
    token_id := hit.id;
    user_id := hit.user_id;
    kind := hit.kind;
    scope := hit.scope;
    preferences := hit.preferences;
    needs_touch := hit.last_used_at < now() - interval '1 minute';
    RETURN NEXT;
END
$$
"""

# The write, in its own short transaction: activity, and a session's sliding expiry.
_TOUCH = """
CREATE FUNCTION auth_touch_token(p_token_id uuid, p_idle interval) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
    UPDATE auth_tokens SET
        last_used_at = now(),
        expires_at = CASE WHEN kind = 'session'
                          THEN least(now() + p_idle, absolute_expires_at)
                          ELSE expires_at END
    WHERE id = p_token_id AND revoked_at IS NULL
      AND last_used_at < now() - interval '1 minute'
$$
"""

# The previous definition (revision 0002), restored by the downgrade.
_RESOLVE_0002 = """
CREATE FUNCTION auth_resolve_token(p_token_hash bytea, p_idle interval)
RETURNS TABLE (token_id uuid, user_id uuid, kind text, scope text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    hit auth_tokens%ROWTYPE;
BEGIN
    SELECT t.* INTO hit
    FROM auth_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = p_token_hash
      AND t.revoked_at IS NULL
      AND (t.expires_at IS NULL OR t.expires_at > now())
      AND (t.absolute_expires_at IS NULL OR t.absolute_expires_at > now())
      AND u.is_active;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF hit.last_used_at < now() - interval '1 minute' THEN
        UPDATE auth_tokens SET
            last_used_at = now(),
            expires_at = CASE WHEN hit.kind = 'session'
                              THEN least(now() + p_idle, hit.absolute_expires_at)
                              ELSE hit.expires_at END
        WHERE id = hit.id;
    END IF;
    PERFORM set_config('diarist.user_id', hit.user_id::text, true);
    token_id := hit.id;
    user_id := hit.user_id;
    kind := hit.kind;
    scope := hit.scope;
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    op.execute("DROP FUNCTION auth_resolve_token(bytea, interval)")
    op.execute(_RESOLVE)
    op.execute("REVOKE ALL ON FUNCTION auth_resolve_token(bytea) FROM PUBLIC")
    op.execute(_TOUCH)
    op.execute("REVOKE ALL ON FUNCTION auth_touch_token(uuid, interval) FROM PUBLIC")


def downgrade() -> None:
    op.execute("DROP FUNCTION auth_touch_token(uuid, interval)")
    op.execute("DROP FUNCTION auth_resolve_token(bytea)")
    op.execute(_RESOLVE_0002)
    op.execute("REVOKE ALL ON FUNCTION auth_resolve_token(bytea, interval) FROM PUBLIC")
