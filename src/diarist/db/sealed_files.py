"""Files encrypted as a stream of AES-256-GCM chunks (for backups at rest).

Layout: the magic `DIARIST-SEALED-1` (16 bytes), an 8-byte random nonce prefix, then chunks of
`length (4 bytes, big-endian) ‖ ciphertext ‖ tag`. Chunk n is sealed with the nonce
`prefix ‖ n (4 bytes)` and the associated data `magic ‖ n ‖ last?`, so chunks cannot be
reordered, dropped or cut off at the end without the opening failing. The key comes from the
configured secret through HKDF-SHA256 (`info` names the purpose).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"DIARIST-SEALED-1"
CHUNK = 1024 * 1024
_MAX_CHUNKS = 2**32 - 1


class SealedFileError(ValueError):
    """Not a sealed file, the wrong key, or a changed, reordered or shortened one."""


def file_key(secret: str, purpose: str) -> bytes:
    """A 256-bit key for `purpose`, derived from the configured secret."""
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return derive.derive(secret.encode())


def _associated(index: int, last: bool) -> bytes:
    return MAGIC + struct.pack(">I?", index, last)


def seal_stream(key: bytes, source: IO[bytes], target: IO[bytes]) -> None:
    """Encrypt all of `source` into `target`."""
    aead, prefix = AESGCM(key), os.urandom(8)
    target.write(MAGIC + prefix)
    index, pending = 0, source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        if index >= _MAX_CHUNKS:
            raise SealedFileError("too large to seal")
        sealed = aead.encrypt(prefix + struct.pack(">I", index), pending, _associated(index, last))
        target.write(struct.pack(">I", len(sealed)) + sealed)
        if last:
            return
        index, pending = index + 1, following


def open_stream(key: bytes, source: IO[bytes]) -> Iterator[bytes]:
    """The plaintext of a sealed `source`, chunk by chunk; SealedFileError when it is not
    whole and ours."""
    head = source.read(len(MAGIC) + 8)
    if len(head) != len(MAGIC) + 8 or not head.startswith(MAGIC):
        raise SealedFileError("not a sealed file")
    aead, prefix = AESGCM(key), head[len(MAGIC) :]
    index = 0
    size = source.read(4)
    while size:
        if len(size) != 4:
            raise SealedFileError("cut off")
        (length,) = struct.unpack(">I", size)
        if length > CHUNK + 16:
            raise SealedFileError("a chunk too long")
        sealed = source.read(length)
        following = source.read(4)
        last = not following
        try:
            yield aead.decrypt(prefix + struct.pack(">I", index), sealed, _associated(index, last))
        except InvalidTag:
            raise SealedFileError("changed, reordered, cut off, or another key") from None
        index, size = index + 1, following
    if index == 0:
        raise SealedFileError("cut off")
