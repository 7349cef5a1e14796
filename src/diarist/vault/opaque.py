"""The server half of OPAQUE-3DH (RFC 9807) with ristretto255 and SHA-512 — the suite
opaque-ke names `Ristretto255` — on libsodium's ristretto255 group (rbcl, which bundles it).

Why our own: the vault's server must work across several worker processes, so between KE2 and
KE3 its login state (the session key and the client MAC it expects, 128 bytes) is sealed into
the database; opaque-snake (the Python binding of opaque-ke) keeps that state inside an object
it cannot export. The client half stays opaque-snake's (`diarist vault`, the tests), and the
messages, records and setup are byte-compatible with opaque-ke: the RFC's Appendix C vectors
and an interoperability test hold this module to both.

What the server never sees: the passphrase, the client's OPRF output, its export key.
Sizes (bytes): Nn = Nseed = Npk = Nsk = Noe = Nok = 32; Nh = Nm = Nx = 64.
KE1 = blinded element | client nonce | client keyshare (96); KE2 = evaluated element |
masking nonce | masked response (128) | server nonce | server keyshare | server MAC (320);
KE3 = client MAC (64). A registration record = client public key | masking key | envelope
(192).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

import rbcl
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

NN = 32
NSEED = 32
NH = 64
NM = 64
NX = 64
NPK = 32
NSK = 32
NOK = 32
KE1_SIZE = 3 * 32
KE2_SIZE = 32 + NN + (NPK + NN + NM) + NN + NPK + NM
KE3_SIZE = NM
RECORD_SIZE = NPK + NH + (NN + NM)
REGISTRATION_REQUEST_SIZE = 32
SETUP_SIZE = NH + NSK + NSK
_CONTEXT_STRING = b"OPRFV1-\x00-ristretto255-SHA512"
_ZERO = bytes(32)


class OpaqueError(ValueError):
    """A message that is not one (wrong size, not a group element) or a login that failed."""


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def _expand_message_xmd(message: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 5.3.1 with SHA-512 (a 64-byte block of output, a 128-byte input block)."""
    blocks = -(-length // 64)
    if blocks > 255 or len(dst) > 255:
        raise OpaqueError("expand_message_xmd: too long")
    dst_prime = dst + _i2osp(len(dst), 1)
    b0 = hashlib.sha512(bytes(128) + message + _i2osp(length, 2) + b"\x00" + dst_prime).digest()
    previous = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    output = previous
    for index in range(2, blocks + 1):
        mixed = bytes(a ^ b for a, b in zip(b0, previous, strict=True))
        previous = hashlib.sha512(mixed + _i2osp(index, 1) + dst_prime).digest()
        output += previous
    return output[:length]


def _hash_to_scalar(message: bytes, dst: bytes) -> bytes:
    wide = _expand_message_xmd(message, dst, 64)
    return bytes(rbcl.crypto_core_ristretto255_scalar_reduce(wide))


def derive_key_pair(seed: bytes, info: bytes) -> tuple[bytes, bytes]:
    """RFC 9497's DeriveKeyPair for ristretto255-SHA512: (private scalar, public element)."""
    derive_input = seed + _i2osp(len(info), 2) + info
    for counter in range(256):
        scalar = _hash_to_scalar(
            derive_input + _i2osp(counter, 1), b"DeriveKeyPair" + _CONTEXT_STRING
        )
        if scalar != _ZERO:
            return scalar, bytes(rbcl.crypto_scalarmult_ristretto255_base(scalar))
    raise OpaqueError("DeriveKeyPair: no key")  # pragma: no cover - probability 2^-2040


def _element(encoded: bytes) -> bytes:
    if len(encoded) != 32 or not rbcl.crypto_core_ristretto255_is_valid_point(encoded):
        raise OpaqueError("not a ristretto255 element")
    if encoded == _ZERO:
        raise OpaqueError("the identity element")
    return encoded


def _multiply(scalar: bytes, element: bytes) -> bytes:
    try:
        return bytes(rbcl.crypto_scalarmult_ristretto255(scalar, element))
    except (ValueError, RuntimeError):  # rbcl's word for the identity element
        raise OpaqueError("a product that is the identity element") from None


def _expand(key: bytes, info: bytes, length: int) -> bytes:
    return HKDFExpand(hashes.SHA512(), length, info).derive(key)


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(NH), ikm, hashlib.sha512).digest()


def _expand_label(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    full = b"OPAQUE-" + label
    custom = _i2osp(length, 2) + _i2osp(len(full), 1) + full + _i2osp(len(context), 1) + context
    return _expand(secret, custom, length)


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha512).digest()


@dataclass(frozen=True)
class ServerSetup:
    """The server's long-term secrets: the OPRF seed, its AKE key pair, and the private key
    of the pair opaque-ke keeps for fake records. Serialized as opaque-ke does (128 bytes).
    Losing it makes every vault unreadable: it lives in a key file, not in the database."""

    oprf_seed: bytes
    private_key: bytes
    fake_private_key: bytes

    @property
    def public_key(self) -> bytes:
        return bytes(rbcl.crypto_scalarmult_ristretto255_base(self.private_key))

    @classmethod
    def generate(cls, random: Callable[[int], bytes] = os.urandom) -> ServerSetup:
        private, _ = derive_key_pair(random(NSEED), b"OPAQUE-DeriveDiffieHellmanKeyPair")
        fake, _ = derive_key_pair(random(NSEED), b"OPAQUE-DeriveDiffieHellmanKeyPair")
        return cls(random(NH), private, fake)

    def to_bytes(self) -> bytes:
        return self.oprf_seed + self.private_key + self.fake_private_key

    @classmethod
    def from_bytes(cls, raw: bytes) -> ServerSetup:
        if len(raw) != SETUP_SIZE:
            raise OpaqueError("not a server setup")
        setup = cls(raw[:NH], raw[NH : NH + NSK], raw[NH + NSK :])
        try:
            _element(setup.public_key)
        except (ValueError, RuntimeError):  # a zero scalar: its product is the identity
            raise OpaqueError("not a server setup") from None
        return setup

    def _oprf_key(self, credential_identifier: bytes) -> bytes:
        seed = _expand(self.oprf_seed, credential_identifier + b"OprfKey", NOK)
        return derive_key_pair(seed, b"OPAQUE-DeriveKeyPair")[0]


def registration_response(
    setup: ServerSetup, request: bytes, credential_identifier: bytes
) -> bytes:
    """The answer to a RegistrationRequest: the evaluated element and the server's public key."""
    if len(request) != REGISTRATION_REQUEST_SIZE:
        raise OpaqueError("not a registration request")
    evaluated = _multiply(setup._oprf_key(credential_identifier), _element(request))
    return evaluated + setup.public_key


@dataclass(frozen=True)
class Record:
    """What a registration stores: the client's public key, its masking key and envelope."""

    client_public_key: bytes
    masking_key: bytes
    envelope: bytes

    @classmethod
    def from_upload(cls, upload: bytes) -> Record:
        if len(upload) != RECORD_SIZE:
            raise OpaqueError("not a registration record")
        return cls(_element(upload[:NPK]), upload[NPK : NPK + NH], upload[NPK + NH :])

    def to_bytes(self) -> bytes:
        return self.client_public_key + self.masking_key + self.envelope


@dataclass(frozen=True)
class LoginState:
    """What the server keeps between KE2 and KE3 (sealed when it is stored)."""

    session_key: bytes
    expected_client_mac: bytes

    def to_bytes(self) -> bytes:
        return self.session_key + self.expected_client_mac

    @classmethod
    def from_bytes(cls, raw: bytes) -> LoginState:
        if len(raw) != NX + NM:
            raise OpaqueError("not a login state")
        return cls(raw[:NX], raw[NX:])


def server_ke2(
    setup: ServerSetup,
    record: Record,
    credential_identifier: bytes,
    ke1: bytes,
    *,
    context: bytes = b"",
    client_identity: bytes | None = None,
    server_identity: bytes | None = None,
    random: Callable[[int], bytes] = os.urandom,
) -> tuple[bytes, LoginState]:
    """KE2 for a KE1 (GenerateKE2): the credential response and the server's AKE answer,
    and the state its KE3 is checked against. Identities default to the public keys."""
    if len(ke1) != KE1_SIZE:
        raise OpaqueError("not a KE1")
    blinded, client_keyshare = _element(ke1[:32]), _element(ke1[64:])
    evaluated = _multiply(setup._oprf_key(credential_identifier), blinded)
    masking_nonce = random(NN)
    pad = _expand(record.masking_key, masking_nonce + b"CredentialResponsePad", NPK + NN + NM)
    plain = setup.public_key + record.envelope
    credential_response = (
        evaluated + masking_nonce + bytes(a ^ b for a, b in zip(pad, plain, strict=True))
    )
    server_nonce = random(NN)
    keyshare_private, keyshare_public = derive_key_pair(
        random(NSEED), b"OPAQUE-DeriveDiffieHellmanKeyPair"
    )
    client_id = record.client_public_key if client_identity is None else client_identity
    server_id = setup.public_key if server_identity is None else server_identity
    preamble = (
        b"OPAQUEv1-" + _i2osp(len(context), 2) + context
        + _i2osp(len(client_id), 2) + client_id + ke1
        + _i2osp(len(server_id), 2) + server_id
        + credential_response + server_nonce + keyshare_public
    )  # fmt: skip
    ikm = (
        _multiply(keyshare_private, client_keyshare)
        + _multiply(setup.private_key, client_keyshare)
        + _multiply(keyshare_private, record.client_public_key)
    )
    transcript = hashlib.sha512(preamble).digest()
    prk = _extract(b"", ikm)
    handshake_secret = _expand_label(prk, b"HandshakeSecret", transcript, NX)
    session_key = _expand_label(prk, b"SessionKey", transcript, NX)
    server_mac_key = _expand_label(handshake_secret, b"ServerMAC", b"", NX)
    client_mac_key = _expand_label(handshake_secret, b"ClientMAC", b"", NX)
    server_mac = _mac(server_mac_key, transcript)
    expected = _mac(client_mac_key, hashlib.sha512(preamble + server_mac).digest())
    ke2 = credential_response + server_nonce + keyshare_public + server_mac
    return ke2, LoginState(session_key, expected)


def server_finish(state: LoginState, ke3: bytes) -> bytes:
    """The session key, once KE3 proves the client knew the passphrase."""
    if len(ke3) != KE3_SIZE or not hmac.compare_digest(ke3, state.expected_client_mac):
        raise OpaqueError("the login failed")
    return state.session_key
