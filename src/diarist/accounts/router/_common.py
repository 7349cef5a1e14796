"""What both accounts routers answer with: the problem responses they declare, the user."""

from __future__ import annotations

from typing import Any

from diarist.accounts.schemas import Preferences, UserOut
from diarist.kit.responses import problem_responses
from diarist.models import User

PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def user_out(user: User | Any) -> UserOut:
    """The user (a `User`, or a profile row with its columns) as the API shows them: their
    stored preferences over the defaults."""
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        auth_provider=user.auth_provider,
        is_active=user.is_active,
        email_verified=user.email_verified_at is not None,
        preferences=Preferences.model_validate({**Preferences().model_dump(), **user.preferences}),
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )
