"""Bearer tokens: what a client holds, and the digest the database stores."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str) -> str:
    """256 random bits, URL-safe, with a prefix that secret scanners can recognise."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What the database stores and looks up: SHA-256 of a high-entropy token."""
    return hashlib.sha256(token.encode()).digest()
