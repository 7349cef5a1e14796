"""The web app's pages for a journal of 1,000 entries: server time per page and what each
page weighs (`python -m bench.web`; part of `make bench`).

The app runs in this process on a throwaway embedded PostgreSQL and is driven through its
ASGI interface (no network), one request at a time, with the statistics built as the worker
would (the analysis itself is not run: entries show as pending). A figure is the server's
own time plus the ASGI client's small overhead; the floor measured in the same run is a page
that renders a template and reads nothing (`/offline`). Targets (issue "The diarist web
app"): ≤ 50 ms server time per page at 1,000 entries; ≤ 100 KB of our own JavaScript and
CSS. Writes bench/results/web-<time>.json and web-latest.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics as stats
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.cluster import migrated_cluster
from bench.generator import journal_entry_text
from bench.report import machine, percentile, write_results
from diarist.app import create_app
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.insights import statistics

PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway account of the bench)
TAGS = ("walks", "work", "family", "garden", "books", "sleep", "friends", "travel")


async def _reminders(client: httpx.AsyncClient, bearer: dict[str, str]) -> None:
    """50 reminders, half daily (the reminders page shows two weeks of their occurrences)."""
    start = datetime.now(UTC) + timedelta(hours=1)
    for n in range(50):
        body: dict[str, Any] = {"title": f"Reminder {n}", "remind_at": start.isoformat()}
        if n % 2 == 0:
            body["repeat"] = "daily"
        made = await client.post("/api/v1/reminders", json=body, headers=bearer)
        assert made.status_code == 201, made.text


def _hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


async def _journal(client: httpx.AsyncClient, entries: int) -> str:
    """A user signed in through the pages, with `entries` entries over two years; one id."""
    form = await client.get("/register")
    fields = {
        **_hidden(form.text),
        "name": "Bench",
        "email": "web-bench@example.com",
        "password": PASSWORD,
    }
    made = await client.post("/register", data=fields)
    assert made.status_code == 303, made.text
    bearer = {"Authorization": f"Bearer {client.cookies['diarist_session']}"}
    start = datetime.now(UTC) - timedelta(days=730)
    entry_id = ""
    for n in range(entries):
        body = {
            "raw_data": {"format": "markdown", "text": journal_entry_text(n)},
            "title": f"Day {n}",
            "tags": [TAGS[n % len(TAGS)], TAGS[(n * 3) % len(TAGS)]],
            "mood_rating": 1 + n % 10,
            "entry_date": (start + timedelta(hours=17.5 * n)).isoformat(),
        }
        response = await client.post("/api/v1/entries", json=body, headers=bearer)
        assert response.status_code == 201, response.text
        entry_id = response.json()["id"]
    return entry_id


async def _time(client: httpx.AsyncClient, path: str, repeats: int) -> dict[str, Any]:
    for _ in range(3):  # warm: prepared statements, template compilation
        await client.get(path)
    times, size = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        size = len(response.content)
    return {
        "path": path,
        "p50_ms": round(stats.median(times), 2),
        "p95_ms": round(percentile(times, 95), 2),
        "bytes": size,
    }


async def run(entries: int, repeats: int) -> dict[str, Any]:
    with migrated_cluster() as cluster:
        settings = cluster.settings
        plan = PoolPlan(4, 0)
        database = Database(
            create_engine(cluster.urls.app, settings.db, plan, application_name="b")
        )
        app = create_app(settings, database=database)
        transport = httpx.ASGITransport(app=app)
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
            ):
                entry = await _journal(client, entries)
                # The statistics the insights and calendar pages read, as the worker keeps them.
                bearer = {"Authorization": f"Bearer {client.cookies['diarist_session']}"}
                user_id = uuid.UUID((await client.get("/api/v1/me", headers=bearer)).json()["id"])
                async with database.unit_of_work(user_id=user_id) as session:
                    await statistics.rebuild_statistics(session, user_id)
                await _reminders(client, bearer)
                pages = [
                    "/", "/?tag=walks", "/write", f"/entries/{entry}", f"/entries/{entry}/edit",
                    "/search?q=morning+walk&mode=keyword", "/insights", "/calendar", "/tags",
                    "/settings", "/reminders", "/notifications",
                ]  # fmt: skip
                floor = await _time(client, "/offline", repeats)
                results = [await _time(client, path, repeats) for path in pages]
                assets = {
                    name: len((await client.get(f"/static/{name}")).content)
                    for name in ("app.css", "app.js")
                }
        finally:
            await database.dispose()
    for row in results:
        row["ratio_to_floor"] = round(row["p50_ms"] / max(floor["p50_ms"], 0.01), 1)
    return {
        "machine": machine(),
        "data": {"entries": entries, "repeats": repeats},
        "floor": floor,
        "pages": results,
        "assets_bytes": assets,
        "assets_total_kb": round(sum(assets.values()) / 1024, 1),
        "targets": {"server_ms": 50, "assets_kb": 100},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    report = asyncio.run(run(args.entries, args.repeats))
    print(write_results(report, "web", "web-latest"))
    worst = max(row["p95_ms"] for row in report["pages"])
    print(json.dumps({"worst_p95_ms": worst, "assets_kb": report["assets_total_kb"]}))


if __name__ == "__main__":
    main()
