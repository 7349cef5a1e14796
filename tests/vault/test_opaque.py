"""Our OPAQUE server half: RFC 9807's Appendix C vectors (ristretto255-SHA512) byte for byte,
logins with opaque-snake's client (opaque-ke) both ways round, and refusals of what is not a
message or not the passphrase."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import opaque_snake
import pytest

from diarist.vault.opaque import (
    KE1_SIZE,
    LoginState,
    OpaqueError,
    Record,
    ServerSetup,
    registration_response,
    server_finish,
    server_ke2,
)

VECTORS = json.loads((Path(__file__).parent / "rfc9807_vectors.json").read_text())["vectors"]


def _hex(vector: dict[str, Any], part: str, name: str) -> bytes:
    return bytes.fromhex(vector[part][name])


def _fixed(*values: bytes) -> Callable[[int], bytes]:
    """A random source that hands out the vector's values in order."""
    queue: Iterator[bytes] = iter(values)

    def take(size: int) -> bytes:
        value = next(queue)
        assert len(value) == size
        return value

    return take


def _setup(vector: dict[str, Any]) -> ServerSetup:
    setup = ServerSetup(
        _hex(vector, "inputs", "oprf_seed"), _hex(vector, "inputs", "server_private_key"), bytes(32)
    )
    assert setup.public_key == _hex(vector, "inputs", "server_public_key")
    return setup


@pytest.mark.parametrize("vector", VECTORS, ids=["vector-1", "vector-2-identities"])
def test_the_rfc_vectors(vector: dict[str, Any]) -> None:
    setup = _setup(vector)
    credential = _hex(vector, "inputs", "credential_identifier")
    request = _hex(vector, "outputs", "registration_request")
    assert registration_response(setup, request, credential) == _hex(
        vector, "outputs", "registration_response"
    )
    record = Record.from_upload(_hex(vector, "outputs", "registration_upload"))
    identities = {
        "client_identity": bytes.fromhex(vector["inputs"]["client_identity"])
        if "client_identity" in vector["inputs"] else None,
        "server_identity": bytes.fromhex(vector["inputs"]["server_identity"])
        if "server_identity" in vector["inputs"] else None,
    }  # fmt: skip
    random = _fixed(
        _hex(vector, "inputs", "masking_nonce"),
        _hex(vector, "inputs", "server_nonce"),
        _hex(vector, "inputs", "server_keyshare_seed"),
    )
    ke2, state = server_ke2(
        setup, record, credential, _hex(vector, "outputs", "KE1"),
        context=bytes.fromhex(vector["context"]), random=random, **identities,
    )  # fmt: skip
    assert ke2 == _hex(vector, "outputs", "KE2")
    assert server_finish(state, _hex(vector, "outputs", "KE3")) == _hex(
        vector, "outputs", "session_key"
    )
    assert LoginState.from_bytes(state.to_bytes()) == state


def test_opaque_snake_registers_and_logs_in_against_our_server() -> None:
    setup = ServerSetup.generate()
    client = opaque_snake.OpaqueClient()
    request, registering = client.start_registration("correct horse battery")
    response = registration_response(setup, request.to_bytes(), b"tag-1")
    done = client.finish_registration(
        opaque_snake.RegistrationResponse.from_bytes(response), registering, "correct horse battery"
    )
    assert bytes(done.server_s_pk) == setup.public_key
    record = Record.from_upload(done.upload.to_bytes())

    ke1, logging_in = client.start_login("correct horse battery")
    ke2, state = server_ke2(setup, record, b"tag-1", ke1.to_bytes())
    result = client.finish_login(
        opaque_snake.CredentialResponse.from_bytes(ke2), logging_in, "correct horse battery"
    )
    key = server_finish(state, result.finalization.to_bytes())
    assert key == bytes(result.session_keys.session_key)
    export_key = result.session_keys.export_key
    assert export_key is not None
    assert bytes(export_key) == bytes(done.export_key)

    wrong, guessing = client.start_login("wrong horse battery")
    ke2, state = server_ke2(setup, record, b"tag-1", wrong.to_bytes())
    with pytest.raises(opaque_snake.OpaqueError):
        client.finish_login(
            opaque_snake.CredentialResponse.from_bytes(ke2), guessing, "wrong horse battery"
        )
    with pytest.raises(OpaqueError, match="failed"):
        server_finish(state, bytes(64))


def test_a_setup_is_opaque_kes_and_its_records_log_in_on_our_server() -> None:
    """opaque-ke's exported ServerSetup reads as ours (and its password file as a record):
    the engine can change without anyone registering again."""
    theirs = opaque_snake.OpaqueServer()
    setup = ServerSetup.from_bytes(theirs.export_setup())
    assert ServerSetup.from_bytes(setup.to_bytes()) == setup
    client = opaque_snake.OpaqueClient()
    request, registering = client.start_registration("pass phrase")
    response = theirs.create_registration_response(request, "tag-9")
    assert registration_response(setup, request.to_bytes(), b"tag-9") == response.to_bytes()
    done = client.finish_registration(response, registering, "pass phrase")
    password_file = theirs.finish_registration(done.upload)
    record = Record.from_upload(password_file.to_bytes())
    ke1, logging_in = client.start_login("pass phrase")
    ke2, state = server_ke2(setup, record, b"tag-9", ke1.to_bytes())
    result = client.finish_login(
        opaque_snake.CredentialResponse.from_bytes(ke2), logging_in, "pass phrase"
    )
    assert server_finish(state, result.finalization.to_bytes()) == bytes(
        result.session_keys.session_key
    )


@pytest.mark.parametrize(
    "ke1",
    [
        b"",
        bytes(KE1_SIZE),  # the identity element
        b"\xff" * KE1_SIZE,  # not an encoding of an element
        bytes(KE1_SIZE - 1),
    ],
)
def test_a_ke1_that_is_not_one_is_refused(ke1: bytes) -> None:
    setup = ServerSetup.generate()
    record = Record(setup.public_key, bytes(64), bytes(96))
    with pytest.raises(OpaqueError):
        server_ke2(setup, record, b"tag", ke1)


def test_records_setups_and_requests_that_are_not_ones_are_refused() -> None:
    setup = ServerSetup.generate()
    for bad in (b"", bytes(192), b"\xff" * 192):
        with pytest.raises(OpaqueError):
            Record.from_upload(bad)
    for bad in (b"", bytes(128)):
        with pytest.raises(OpaqueError):
            ServerSetup.from_bytes(bad)
    for bad in (b"", bytes(32), b"\xff" * 32):
        with pytest.raises(OpaqueError):
            registration_response(setup, bad, b"tag")
    with pytest.raises(OpaqueError):
        LoginState.from_bytes(bytes(100))
