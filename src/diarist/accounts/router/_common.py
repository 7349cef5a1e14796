"""What both accounts routers answer with: the problem responses they declare, the user, and
the headers of answers that carry (or complete the use of) a secret."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Response, status

from diarist.accounts.personal_data import USER_EMAIL, PersonalData
from diarist.accounts.schemas import Preferences, UserOut
from diarist.kit.responses import problem_responses
from diarist.models import User

PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def user_out(user: User | Any, personal: PersonalData) -> UserOut:
    """The user (a `User`, or a profile row with its columns) as the API shows them: the
    address opened, their stored preferences over the defaults."""
    return UserOut(
        id=user.id,
        email=personal.open(USER_EMAIL, user.email_sealed),
        name=user.name,
        auth_provider=user.auth_provider,
        is_active=user.is_active,
        email_verified=user.email_verified_at is not None,
        preferences=Preferences.model_validate(
            {**Preferences().model_dump(mode="json"), **user.preferences}
        ),
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


# A token, or the answer to a password or code, is never kept by a browser or proxy cache
# (RFC 9111 no-store; Pragma for HTTP/1.0 caches).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _no_store(response: Response) -> None:
    response.headers.update(NO_STORE)


# For a route that returns a model: `dependencies=[NoStore]`.
NoStore = Depends(_no_store)


def no_content_no_store() -> Response:
    """A 204 that no cache keeps (a returned Response does not get a dependency's headers)."""
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=NO_STORE)
