"""Errors of the vault, each with a stable code (never with a phrase or a key in it)."""

from __future__ import annotations

from diarist.accounts.errors import TooManyAttempts
from diarist.errors import Conflict, DiaristError, NotFound, Unprocessable


class SecretTagNotFound(NotFound):
    code = "secret_tag_not_found"
    title = "Secret tag not found"

    def __init__(self) -> None:
        super().__init__("No secret tag of mine has this id.")


class SecretTagExists(Conflict):
    code = "secret_tag_exists"
    title = "Secret tag exists"


class VaultMessageInvalid(Unprocessable):
    """A base64url field that does not decode, or an OPAQUE message that is not one."""

    code = "vault_message_invalid"
    title = "Invalid vault message"


class VaultLoginFailed(DiaristError):
    """KE3 did not prove the phrase (or the login expired): the handshake is used up, and that
    stays so (the deletion is committed)."""

    status = 401
    code = "vault_login_failed"
    title = "Vault login failed"
    keeps_writes = True


class VaultLocked(DiaristError):
    status = 401
    code = "vault_locked"
    title = "Vault locked"

    def __init__(self) -> None:
        super().__init__("Unlock this secret tag first: X-Vault-Token is missing or has expired.")


class VaultObjectNotFound(NotFound):
    code = "vault_object_not_found"
    title = "Vault object not found"


class KeyVersionConflict(Conflict):
    code = "key_version_conflict"
    title = "Key version changed"


class VaultSetupChanged(DiaristError):
    """The tag's record was made under another OPAQUE server setup than the data dir's (the
    key file was lost and made anew, or a database restored without its key files)."""

    status = 503
    code = "vault_setup_changed"
    title = "Vault setup changed"

    def __init__(self) -> None:
        super().__init__(
            "This secret tag was registered under another OPAQUE server setup than this"
            " server's: its operator must restore vault/opaque_server_setup.bin from the"
            " backup (docs/backups.md). Nothing about the phrase is wrong."
        )


class VaultThrottled(TooManyAttempts):
    """A login refused while its counters are blocked: the same answer as any other too many
    attempts, but the security event that records it is kept."""

    keeps_writes = True

    def __init__(self, refused: TooManyAttempts) -> None:
        super().__init__(float(refused.extra["retry_after"]))
