"""10,000 reminders due in the same minute, fired and delivered by one worker's code path
(`python -m bench.reminders`; part of `make bench`).

A throwaway embedded PostgreSQL holds 100 users with 100 reminders each, all due now: half
repeating daily, half once. One run fires them (`fire_all_due`: into the feeds, a delivery
row per webhook occurrence) and sends the webhook deliveries to a receiver on loopback
(`send_due`, 20 in flight), as the worker's task does. The floor measured in the same run is
PostgreSQL inserting 10,000 feed rows in one statement. Target (issue "Reminders"): all
delivered within 60 s. Writes bench/results/reminders-<time>.json and reminders-latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.cluster import migrated_cluster
from bench.report import machine, write_results
from diarist.accounts.personal_data import PersonalData
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.reminders.delivery import Senders, fire_all_due, send_due

USERS = 100


class Receiver:
    """A webhook receiver on loopback that counts what arrives."""

    def __init__(self) -> None:
        self.received = 0
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"

        async def hook(_request: Request) -> Response:
            self.received += 1
            return Response(status_code=204)

        app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


_USERS_SQL = text(
    "INSERT INTO users (email_sealed, email_index, name)"  # never signs in: stand-ins
    " SELECT sha256(('s' || g)::bytea), sha256(('i' || g)::bytea), 'Bench'"
    " FROM generate_series(1, :users) g RETURNING id"
)
_WEBHOOKS_SQL = text(
    "INSERT INTO notification_webhooks (user_id, url, secret)"
    " SELECT id, :url, 'whsec_bench' FROM users"
)
_REMINDERS_SQL = text(
    """
    INSERT INTO reminders (user_id, title, timezone, starts_local, rrule, next_at, channels)
    SELECT u.id, 'Reminder ' || g, 'Europe/Berlin',
           (now() - interval '30 seconds') AT TIME ZONE 'Europe/Berlin',
           CASE WHEN g % 2 = 0 THEN 'FREQ=DAILY' END,
           now() - interval '30 seconds', ARRAY['app', 'webhook']
    FROM users u, generate_series(1, :per_user) g
    """
)
_FLOOR_SQL = text(
    "INSERT INTO notifications (user_id, kind, title, body)"
    " SELECT u.id, 'system', 'floor', '' FROM users u, generate_series(1, :per_user) g"
)


async def _measure(reminders: int) -> dict[str, Any]:
    per_user = reminders // USERS
    with migrated_cluster() as cluster:
        settings = cluster.settings
        system = Database(
            create_engine(cluster.urls.system, settings.db, PoolPlan(4, 0), application_name="b")
        )
        receiver = Receiver()
        try:
            async with system.unit_of_work() as session:
                await session.execute(_USERS_SQL, {"users": USERS})
                await session.execute(_WEBHOOKS_SQL, {"url": receiver.url})
            started = time.perf_counter()
            async with system.unit_of_work() as session:
                await session.execute(_FLOOR_SQL, {"per_user": per_user})
                await session.execute(text("DELETE FROM notifications"))
            floor_s = time.perf_counter() - started
            async with system.unit_of_work() as session:
                await session.execute(_REMINDERS_SQL, {"per_user": per_user})
            settings.reminders.allow_private_hosts = True
            started = time.perf_counter()
            report = await fire_all_due(system, settings.reminders, datetime.now(UTC))
            fired_s = time.perf_counter() - started
            async with httpx.AsyncClient() as http:

                async def no_mail(_to: str, _subject: str, _body: str) -> None:
                    raise AssertionError("no email in this bench")

                senders = Senders(no_mail, http, PersonalData.from_settings(settings))
                sent = await send_due(
                    system, settings.reminders, senders, lambda: datetime.now(UTC)
                )
            total_s = time.perf_counter() - started
            async with system.unit_of_work() as session:
                feed = await session.scalar(text("SELECT count(*) FROM notifications"))
                delivered = await session.scalar(
                    text("SELECT count(*) FROM reminder_deliveries WHERE status = 'sent'")
                )
        finally:
            receiver.stop()
            await system.dispose()
    return {
        "reminders": reminders,
        "users": USERS,
        "fired": report.fired,
        "in_feeds": feed,
        "webhooks_sent": sent,
        "webhooks_delivered": delivered,
        "webhooks_received": receiver.received,
        "fire_s": round(fired_s, 2),
        "send_s": round(total_s - fired_s, 2),
        "total_s": round(total_s, 2),
        "target_s": 60,
        "floor_feed_insert_s": round(floor_s, 3),
        "fire_over_floor": round(fired_s / floor_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reminders", type=int, default=10_000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = asyncio.run(_measure(args.reminders))
    report = {"bench": "reminders", "machine": machine(), "load_average_at_start": load, **result}
    print(write_results(report, "reminders", "reminders-latest"))


if __name__ == "__main__":
    main()
