"""The rules of accounts: registration, login (password, emailed code or an OpenID Connect
provider), sessions, tokens, password change and reset, verification, linked identities,
profile, deactivation and deletion.

Services never commit; failed logins raise errors that keep their writes (counters, events).
Nothing here logs a password, token or code. One private module a concept; this package is
the only way in (`from diarist.accounts import service as accounts_service`).
"""

from diarist.accounts.service._admin import (
    admin_reset_password,
    list_users,
    set_active,
    user_id_for_email,
)
from diarist.accounts.service._codes import request_code, reset_password, verify_email
from diarist.accounts.service._context import (
    AccountsContext,
    Client,
    Issued,
    Mail,
    normalize_email,
)
from diarist.accounts.service._events import list_security_events, record_event
from diarist.accounts.service._identities import (
    link_provider,
    list_identities,
    sign_in_with_provider,
    unlink_identity,
)
from diarist.accounts.service._login import login, login_with_code, register
from diarist.accounts.service._personal import reseal_personal_data
from diarist.accounts.service._profile import (
    change_password,
    deactivate_self,
    delete_account,
    get_my_profile_checked,
    get_user,
    merge_preferences,
    reauthenticate,
    update_profile,
)
from diarist.accounts.service._throttle import (
    backoff_seconds,
    check_throttle,
    clear_account_throttle,
    forgive_attempt,
    record_failed_attempt,
)
from diarist.accounts.service._tokens import (
    create_pat,
    issue_session,
    list_pats,
    list_sessions,
    logout,
    revoke_other_sessions,
    revoke_token,
)

__all__ = [
    "AccountsContext",
    "Client",
    "Issued",
    "Mail",
    "admin_reset_password",
    "backoff_seconds",
    "change_password",
    "check_throttle",
    "clear_account_throttle",
    "create_pat",
    "deactivate_self",
    "delete_account",
    "forgive_attempt",
    "get_my_profile_checked",
    "get_user",
    "issue_session",
    "link_provider",
    "list_identities",
    "list_pats",
    "list_security_events",
    "list_sessions",
    "list_users",
    "login",
    "login_with_code",
    "logout",
    "merge_preferences",
    "normalize_email",
    "reauthenticate",
    "record_event",
    "record_failed_attempt",
    "register",
    "request_code",
    "reseal_personal_data",
    "reset_password",
    "revoke_other_sessions",
    "revoke_token",
    "set_active",
    "sign_in_with_provider",
    "unlink_identity",
    "update_profile",
    "user_id_for_email",
    "verify_email",
]
