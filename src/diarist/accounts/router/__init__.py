"""HTTP routes of accounts: `/api/v1/auth/...` and `/api/v1/me...`, one router a module."""

from diarist.accounts.router._auth import auth_router
from diarist.accounts.router._me import me_router

__all__ = ["auth_router", "me_router"]
