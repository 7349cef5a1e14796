"""The collector, with real commits and the system role: the bytes of removed attachments
and purged entries go, bytes still named stay, and objects no blob names (a store whose commit
failed, a deleted account's) go once a day old, never younger."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from diarist.accounts.service import AccountsContext
from diarist.attachments import service
from diarist.attachments.store import FileStore, object_key
from diarist.config import Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from tests.conftest import make_settings
from tests.factories import media
from tests.factories.accounts import signed_up
from tests.factories.journal import create_entry
from tests.fixtures.live import live_app_client


def _age(path: Path, days: float) -> None:
    then = (datetime.now(UTC) - timedelta(days=days)).timestamp()
    os.utime(path, (then, then))


async def test_the_collector_removes_what_nothing_names(
    fresh_db: DatabaseUrls, tmp_path: Path, settings: Settings, accounts_context: AccountsContext
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    plan = PoolPlan(size=2, overflow=2)
    system = Database(create_engine(fresh_db.system, settings.db, plan, application_name="t"))
    store = FileStore(tmp_path / "attachments")
    try:
        async with live_app_client(settings, fresh_db, accounts_context, plan) as client:
            me = await signed_up(client)

            async def attach(data: bytes) -> dict[str, str]:
                entry = await create_entry(client, me.auth)
                response = await client.post(
                    "/api/v1/attachments", files={"file": ("f", data)},
                    data={"entry_id": entry["id"]}, headers=me.auth,
                )  # fmt: skip
                assert response.status_code == 201, response.text
                body: dict[str, str] = response.json()
                return body

            removed, purged = await attach(media.pdf()), await attach(media.jpeg(gps=True))
            kept = await attach(media.wav())
            shared = await attach(media.png())
            await attach(media.png())  # the same bytes on a second entry
            assert (
                await client.delete(f"/api/v1/attachments/{removed['id']}", headers=me.auth)
            ).status_code == 204
            assert (
                await client.delete(f"/api/v1/attachments/{shared['id']}", headers=me.auth)
            ).status_code == 204
            entry = purged["entry_id"]
            await client.delete(f"/api/v1/entries/{entry}", headers=me.auth)
            assert (
                await client.delete(f"/api/v1/entries/{entry}/purge", headers=me.auth)
            ).status_code == 204
            user = uuid.UUID((await client.get("/api/v1/me", headers=me.auth)).json()["id"])

            for path in (tmp_path / "attachments" / str(user)).iterdir():
                _age(path, 2)  # old enough, but named by a blob: kept
            stray_old = tmp_path / "attachments" / object_key(uuid.uuid4(), bytes(32))
            stray_young = tmp_path / "attachments" / object_key(user, b"\x01" * 32)
            for stray in (stray_old, stray_young):
                stray.parent.mkdir(parents=True, exist_ok=True)
                stray.write_bytes(b"left by a failed commit")
            _age(stray_old, 2)
            assert await service.collect_unreferenced(system, store) == (2, 1)
            names = {p.name for p in (tmp_path / "attachments").rglob("*") if p.is_file()}
            assert removed["sha256"] not in names
            assert not any(n.startswith(purged["sha256"]) for n in names), "with its variants"
            assert kept["sha256"] in names
            assert shared["sha256"] in names
            assert not stray_old.exists()
            assert stray_young.exists()
            assert (await client.get(kept["content_url"], headers=me.auth)).status_code == 200
            assert await service.collect_unreferenced(system, store) == (0, 0), "nothing more to do"
    finally:
        await system.dispose()
