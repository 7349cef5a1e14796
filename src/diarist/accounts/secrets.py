"""Bearer tokens, one-time codes and keyed hashes of identifiers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

from pydantic import SecretStr

from diarist.kit.tokens import new_token, token_digest

SESSION_PREFIX = "dss_"
PAT_PREFIX = "dpat_"
CODE_DIGITS = 6
__all__ = ["Keyring", "new_code", "new_token", "token_digest"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """The bytes of unpadded URL-safe base64; ValueError for anything else."""
    if not text.isascii():
        raise ValueError("not base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class Keyring:
    """Keys derived from the server secret, one per purpose (never the secret itself)."""

    def __init__(self, secret: SecretStr) -> None:
        # Derived once: the keyring lives as long as the app, its digests run per request.
        root = secret.get_secret_value().encode()
        self._code, self._throttle, self._audit, self._forms, self._seals, self._signing = (
            hmac.new(root, label.encode(), hashlib.sha256).digest()
            for label in ("code", "throttle", "audit", "forms", "seals", "event-signing")
        )

    def code_digest(self, user_id: uuid.UUID, purpose: str, code: str) -> bytes:
        # Keyed: a 6-digit code hashed without a secret would fall to a 10^6 search.
        message = f"{user_id}:{purpose}:{code}".encode()
        return hmac.new(self._code, message, hashlib.sha256).digest()

    def identifier_digest(self, kind: str, value: str) -> bytes:
        """Throttle keys: a keyed hash of an email or address, never the value itself."""
        return hmac.new(self._throttle, f"{kind}:{value}".encode(), hashlib.sha256).digest()

    def form_token(self, session_token: str) -> str:
        """The CSRF token of a web session's forms: nothing to store, nothing to guess
        without the session's own token."""
        return hmac.new(self._forms, session_token.encode(), hashlib.sha256).hexdigest()

    def seal(self, purpose: str, payload: bytes) -> str:
        """`payload` with a tag that only this server could have made for `purpose`: what a
        browser carries for us and hands back (readable, not alterable)."""
        tag = hmac.new(self._seals, purpose.encode() + b"\0" + payload, hashlib.sha256)
        return f"{_b64(payload)}.{_b64(tag.digest())}"

    def unseal(self, purpose: str, sealed: str) -> bytes | None:
        """The payload of a `seal` of `purpose`, or None for anything else."""
        encoded, _, tag = sealed.partition(".")
        try:
            payload, given = _unb64(encoded), _unb64(tag)
        except ValueError:
            return None
        expected = hmac.new(self._seals, purpose.encode() + b"\0" + payload, hashlib.sha256)
        return payload if hmac.compare_digest(expected.digest(), given) else None

    def event_signature(self, canonical: bytes) -> bytes:
        """The HMAC-SHA256 that signs a security event's canonical form (docs/security.md)."""
        return hmac.new(self._signing, canonical, hashlib.sha256).digest()

    def audit_digest(self, value: str | None) -> str | None:
        """Hashed IP / user agent for the security log: comparable, not reversible."""
        if not value:
            return None
        return hmac.new(self._audit, value.encode(), hashlib.sha256).hexdigest()[:32]
