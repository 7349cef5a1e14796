"""The vault's server secrets, kept in the data dir and never in the database (a backup of
the database without them opens no vault — keep them apart, and back them up: losing the
OPAQUE setup makes every vault unreadable; docs/vault.md):

- `vault/opaque_server_setup.bin` — the OPAQUE ServerSetup (OPRF seed, server key pair),
  128 bytes, made once;
- `vault/sealing_keys` — hex AES-256 keys, one a line, the first sealing, all of them
  opening: a new first line rotates the key while logins sealed under the old one finish.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from diarist.kit.key_files import secret_file
from diarist.vault.opaque import ServerSetup

SETUP_FILE = Path("vault") / "opaque_server_setup.bin"
SEALING_FILE = Path("vault") / "sealing_keys"


@lru_cache(maxsize=4)
def server_setup(data_dir: Path) -> ServerSetup:
    return ServerSetup.from_bytes(
        secret_file(data_dir / SETUP_FILE, lambda: ServerSetup.generate().to_bytes())
    )


def fingerprint(setup: ServerSetup) -> bytes:
    """Which setup this is (8 bytes of its public key's SHA-256; nothing secret): stored with
    each tag, so that a setup file lost and made anew is told apart from a wrong phrase."""
    return hashlib.sha256(setup.public_key).digest()[:8]


def sealing_keys(data_dir: Path) -> list[bytes]:
    """The sealing keys, newest first (read at each use: a rotation needs no restart)."""
    raw = secret_file(data_dir / SEALING_FILE, lambda: os.urandom(32).hex().encode() + b"\n")
    keys = [bytes.fromhex(line) for line in raw.decode().split() if line]
    if not keys or any(len(key) != 32 for key in keys):
        raise RuntimeError(f"{data_dir / SEALING_FILE}: not hex AES-256 keys, one a line")
    return keys
