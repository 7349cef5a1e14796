"""Errors of the accounts domain, each with a stable code."""

from __future__ import annotations

from diarist.errors import Conflict, DiaristError, Forbidden, NotFound, Unprocessable


class InvalidCredentials(DiaristError):
    status = 401
    code = "invalid_credentials"
    title = "Invalid credentials"
    keeps_writes = True  # the failure counters and the security event must survive

    def __init__(self) -> None:
        super().__init__("The email or password is not correct.")


class TooManyAttempts(DiaristError):
    status = 429
    code = "too_many_attempts"
    title = "Too many attempts"

    def __init__(self, retry_after_s: float) -> None:
        seconds = max(1, int(retry_after_s + 0.999))
        super().__init__(
            f"Too many failed attempts; try again in {seconds} s.",
            headers={"Retry-After": str(seconds)},
            retry_after=seconds,
        )


class NotAuthenticated(DiaristError):
    status = 401
    code = "not_authenticated"
    title = "Not authenticated"

    def __init__(self, detail: str = "A valid bearer token is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class InsufficientScope(Forbidden):
    code = "insufficient_scope"
    title = "Insufficient scope"


class AccountInactive(Forbidden):
    code = "account_inactive"
    title = "Account deactivated"


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    title = "Email not verified"


class WrongPassword(Forbidden):
    code = "wrong_password"
    title = "Wrong password"
    keeps_writes = True  # the failure counters must survive


class EmailTaken(Conflict):
    code = "email_taken"
    title = "Email already registered"


class InvalidPreferences(Unprocessable):
    code = "invalid_preferences"
    title = "Invalid preferences"


class InvalidEmail(Unprocessable):
    code = "invalid_email"
    title = "Invalid email address"


class WeakPassword(Unprocessable):
    code = "weak_password"
    title = "Password not accepted"


class InvalidCode(DiaristError):
    status = 400
    code = "invalid_code"
    title = "Invalid code"
    keeps_writes = True  # the attempt counter must survive

    def __init__(self) -> None:
        super().__init__("The code is wrong, already used, or replaced by a newer one.")


class CodeExpired(DiaristError):
    status = 400
    code = "code_expired"
    title = "Code expired"
    keeps_writes = True  # the failure counters must survive


class SessionNotFound(NotFound):
    code = "session_not_found"
    title = "Session not found"


class TokenNotFound(NotFound):
    code = "token_not_found"
    title = "Token not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class MailUnavailable(DiaristError):
    status = 503
    code = "mail_unavailable"
    title = "Mail unavailable"
