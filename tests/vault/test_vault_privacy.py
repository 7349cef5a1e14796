"""Nothing of a vault's plaintext or phrase reaches the server's keeping: a secret entry with
a unique marker is stored through the API, then the marker (and the phrase) is searched for in
a plain pg_dump of the whole database, in the account's export and in every log line."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import httpx
import pytest

from diarist.app import create_app
from diarist.db.backups import create_backup
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.vault.client import VaultClient
from tests.conftest import make_settings
from tests.factories.accounts import signed_up, user_id_of
from tests.factories.journal import create_entry

MARKER = "vault-only-marker-quokka-7731"
PHRASE = "an unguessable vault phrase 8822"


async def test_the_vaults_plaintext_reaches_no_table_export_or_log(
    fresh_db: DatabaseUrls, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(fresh_db, tmp_path)
    settings.backups.compress = "none"
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(2, 0), application_name="t")
    )
    app = create_app(settings, database=database)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as client,
        ):
            me = await signed_up(client)
            await create_entry(client, me.auth, "An ordinary entry, not secret.")
            vault = VaultClient(client, me.auth, await user_id_of(client, me))
            tag_id = await vault.register(PHRASE)
            unlocked = await vault.unlock(tag_id, PHRASE)
            assert unlocked is not None
            object_id = await vault.store(unlocked, f"Secret: {MARKER}".encode(), "text/markdown")
            assert (await vault.read(unlocked, object_id))[1] == f"Secret: {MARKER}".encode()
            export = await client.get("/api/v1/me/export", headers=me.auth)
            assert export.status_code == 200
            assert "vault_blobs" in export.json()["tables"], "the ciphertext is exported"
    finally:
        await database.dispose()
    dump = create_backup(settings, fresh_db, lambda _message: None)
    raw = dump.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert b"An ordinary entry" in raw, "the dump is searchable (plain)"
    logs = "\n".join(record.getMessage() + str(record.args) for record in caplog.records)
    for secret in (MARKER, PHRASE):
        assert secret.encode() not in raw, f"{secret} in the database"
        assert secret not in export.text, f"{secret} in the export"
        assert secret not in logs, f"{secret} in the logs"
