"""Personal data at rest: an account's email address, the addresses and browsers its sessions
came from and the addresses its linked providers gave are stored sealed (AES-256-GCM in the
application: the embedded server has no pgcrypto), and found by email through a keyed blind
index (docs/security.md, "Personal data at rest").

A sealed value is `1 ‖ key id (4 bytes) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, with the column
it belongs to as associated data (a value moved to another column does not open). The key id
is the first four bytes of the key's SHA-256, so a value names the key that opens it.

Keys, newest first: `DIARIST_PERSONAL_DATA_KEYS` (hex AES-256 keys separated by spaces or
commas), else the data dir's `personal_data_keys` (one a line, made on first use). The newest
seals, every listed key opens; `diarist user rotate-key` puts a new key first (in the file)
and re-seals every value under the newest. The blind index's key is derived from the server's
secret key: the index does not change when the sealing key rotates.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from diarist.config import Settings
from diarist.kit.key_files import replace_key_list, secret_file

KEYS_FILE = Path("personal_data_keys")
_VERSION = b"\x01"
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_HEADER_BYTES = 1 + _KEY_ID_BYTES + _NONCE_BYTES
_AAD_PREFIX = b"diarist/personal-data/v1\0"

# The columns that hold sealed values: each is the associated data of its own.
USER_EMAIL = "users.email"
SESSION_IP = "auth_tokens.ip_address"
SESSION_USER_AGENT = "auth_tokens.user_agent"
IDENTITY_EMAIL = "user_identities.email"
# (table, column) of each sealed value: the name it has opened (in the user's export) and
# what it is sealed as.
SEALED_COLUMNS = {
    ("users", "email_sealed"): ("email", USER_EMAIL),
    ("auth_tokens", "ip_sealed"): ("ip_address", SESSION_IP),
    ("auth_tokens", "user_agent_sealed"): ("user_agent", SESSION_USER_AGENT),
    ("user_identities", "email_sealed"): ("email", IDENTITY_EMAIL),
}


class PersonalDataKeyError(RuntimeError):
    """A sealed value that no configured key opens, or keys that are not keys."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:_KEY_ID_BYTES]


def sealed_key_id(sealed: bytes) -> bytes:
    """The id of the key a sealed value was sealed under."""
    return sealed[1 : 1 + _KEY_ID_BYTES]


def parse_keys(text: str, source: str) -> list[bytes]:
    """Hex AES-256 keys separated by whitespace or commas, newest first."""
    try:
        keys = [bytes.fromhex(word) for word in re.split(r"[\s,]+", text) if word]
    except ValueError:
        keys = []
    if not keys or any(len(key) != 32 for key in keys):
        raise PersonalDataKeyError(f"{source}: not hex AES-256 keys (64 hex digits each)")
    return keys


@dataclass
class _Loaded:
    keys: list[bytes]
    by_id: dict[bytes, AESGCM]
    # The file's inode and modification time when read (a rotation replaces the file).
    stamp: tuple[int, int]


class PersonalData:
    """Seals and opens personal values, and computes the email's blind index."""

    def __init__(self, index_key: bytes, *, keys: list[bytes] | None, keys_file: Path) -> None:
        self._index_key = index_key
        self._fixed = keys
        self._file = keys_file
        self._loaded: _Loaded | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PersonalData:
        root = settings.checked_secret_key().get_secret_value().encode()
        index_key = hmac.new(root, b"personal-data-index", hashlib.sha256).digest()
        configured = settings.personal_data_keys
        keys = (
            parse_keys(configured.get_secret_value(), "DIARIST_PERSONAL_DATA_KEYS")
            if configured is not None
            else None
        )
        return cls(index_key, keys=keys, keys_file=settings.data_dir / KEYS_FILE)

    @property
    def keys_from_settings(self) -> bool:
        return self._fixed is not None

    @property
    def keys_file(self) -> Path:
        return self._file

    def _current(self, *, reload: bool = False) -> _Loaded:
        """The keys; from the file, read again whenever it changed (a rotation needs no
        restart of the servers that keep running meanwhile)."""
        if self._fixed is not None:
            stamp = (0, 0)
            if self._loaded is None:
                self._loaded = self._load(self._fixed, stamp)
            return self._loaded
        try:
            found = self._file.stat()
        except FileNotFoundError:
            secret_file(self._file, lambda: os.urandom(32).hex().encode() + b"\n")
            found = self._file.stat()
        stamp = (found.st_ino, found.st_mtime_ns)
        if reload or self._loaded is None or self._loaded.stamp != stamp:
            keys = parse_keys(self._file.read_text(), str(self._file))
            self._loaded = self._load(keys, stamp)
        return self._loaded

    @staticmethod
    def _load(keys: list[bytes], stamp: tuple[int, int]) -> _Loaded:
        return _Loaded(keys, {key_id(key): AESGCM(key) for key in keys}, stamp)

    @property
    def newest_key_id(self) -> bytes:
        return key_id(self._current().keys[0])

    def seal(self, column: str, value: str) -> bytes:
        keys = self._current()
        newest = keys.keys[0]
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(newest).encrypt(nonce, value.encode(), _AAD_PREFIX + column.encode())
        return _VERSION + key_id(newest) + nonce + sealed

    def seal_optional(self, column: str, value: str | None) -> bytes | None:
        return None if value is None else self.seal(column, value)

    def open(self, column: str, sealed: bytes) -> str:
        if len(sealed) < _HEADER_BYTES + 16 or sealed[:1] != _VERSION:
            raise PersonalDataKeyError(f"{column}: not a sealed value")
        wanted = sealed_key_id(sealed)
        cipher = self._current().by_id.get(wanted) or self._current(reload=True).by_id.get(wanted)
        if cipher is None:
            raise PersonalDataKeyError(
                f"{column}: sealed under key {wanted.hex()}, which is not configured"
            )
        try:
            plain = cipher.decrypt(
                sealed[1 + _KEY_ID_BYTES : _HEADER_BYTES],
                sealed[_HEADER_BYTES:],
                _AAD_PREFIX + column.encode(),
            )
        except InvalidTag:
            raise PersonalDataKeyError(f"{column}: a sealed value failed its check") from None
        return plain.decode()

    def open_optional(self, column: str, sealed: bytes | None) -> str | None:
        return None if sealed is None else self.open(column, sealed)

    def email_index(self, email: str) -> bytes:
        """The blind index of a normalised address: equal addresses, equal index; nothing
        about the address without the server's secret key."""
        return hmac.new(self._index_key, b"email\0" + email.encode(), hashlib.sha256).digest()

    def rotate_file(self) -> None:
        """Put a new key first in the data dir's file (the previous ones stay, opening)."""
        if self._fixed is not None:
            raise PersonalDataKeyError(
                "the keys come from DIARIST_PERSONAL_DATA_KEYS: put a new key first there"
            )
        self._write([os.urandom(32), *self._current().keys])

    def prune_file(self, keep: int = 2) -> None:
        """Keep the `keep` newest keys in the data dir's file: run after every value was sealed
        again under the newest, it still opens what a server that had not yet read the new
        file sealed meanwhile (under the one before)."""
        if self._fixed is not None:
            return
        self._write(self._current().keys[:keep])

    def _write(self, keys: list[bytes]) -> None:
        replace_key_list(self._file, keys)
        self._current(reload=True)
