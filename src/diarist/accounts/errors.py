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


class OidcProviderUnknown(NotFound):
    code = "oidc_provider_unknown"
    title = "Unknown sign-in provider"

    def __init__(self) -> None:
        super().__init__("There is no sign-in provider of this name here.")


class OidcFlowInvalid(DiaristError):
    status = 400
    code = "oidc_flow_invalid"
    title = "Sign-in expired"

    def __init__(self) -> None:
        super().__init__(
            "This sign-in did not start here, was already used, or took too long. Start again."
        )


class OidcProviderRefused(DiaristError):
    status = 401
    code = "oidc_provider_refused"
    title = "Sign-in refused by the provider"

    def __init__(self, *, cancelled: bool) -> None:
        super().__init__(
            "The sign-in was cancelled at the provider."
            if cancelled
            else "The provider did not sign you in."
        )


class OidcProviderUnavailable(DiaristError):
    status = 502
    code = "oidc_provider_unavailable"
    title = "Sign-in provider unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The sign-in provider could not be reached or gave an answer we cannot use."
        )


class OidcTokenInvalid(DiaristError):
    status = 401
    code = "oidc_token_invalid"
    title = "Provider's answer refused"

    def __init__(self) -> None:
        super().__init__("The provider's answer could not be verified; nobody was signed in.")


class OidcEmailUnverified(Forbidden):
    code = "oidc_email_unverified"
    title = "Address not confirmed by the provider"

    def __init__(self) -> None:
        super().__init__(
            "The provider did not confirm an email address for you, so no account can be "
            "found or made with it. Confirm your address at the provider, or sign in here "
            "and connect the provider in Settings."
        )


class OidcSignUpClosed(Forbidden):
    code = "oidc_sign_up_closed"
    title = "No account for this identity"

    def __init__(self) -> None:
        super().__init__(
            "No account here has this address, and this provider cannot make new ones."
        )


class IdentityLinkUnconfirmed(Conflict):
    code = "identity_link_unconfirmed"
    title = "Account address not confirmed"

    def __init__(self) -> None:
        super().__init__(
            "An account with this address exists, but its address was never confirmed here. "
            "Sign in with its password or an emailed code, then connect the provider in "
            "Settings."
        )


class IdentityInUse(Conflict):
    code = "identity_in_use"
    title = "Identity linked elsewhere"

    def __init__(self) -> None:
        super().__init__("This identity at the provider is already connected to another account.")


class IdentityProviderLinked(Conflict):
    code = "identity_provider_linked"
    title = "Provider already connected"

    def __init__(self) -> None:
        super().__init__(
            "Another identity of this provider is connected to your account; disconnect it first."
        )


class IdentityNotFound(NotFound):
    code = "identity_not_found"
    title = "Identity not found"

    def __init__(self) -> None:
        super().__init__("No connected identity has this id.")


class IdentityLastWayIn(Conflict):
    code = "identity_last_way_in"
    title = "The only way in"

    def __init__(self) -> None:
        super().__init__(
            "This is how you sign in: set a password (or connect another provider) before "
            "disconnecting it."
        )
