"""Vault logins across API workers (`python -m bench.vault`; part of `make bench`).

`diarist serve --workers 4` on a throwaway data dir; one account registers a secret tag, then
40 logins run, each over fresh connections (a new HTTP client per request, so KE1 and KE3
land on whichever worker the kernel hands them to): every one must succeed — the server's
state between KE2 and KE3 is sealed in the database, not kept by a worker. Reports the login
time (KE1 → KE2 → KE3, with opaque-snake's Argon2id on the client) at the median and p95.
Writes bench/results/vault-<time>.json and vault-latest.json; exits non-zero on a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import opaque_snake

from bench.crash import PASSWORD, _free_port, _ready, _serve, _stop_serve
from bench.report import machine, write_results
from diarist.vault.client import VaultClient, b64, unb64

PHRASE = "a phrase for the bench 4242"


async def _login(base: str, auth: dict[str, str], tag_id: uuid.UUID) -> tuple[bool, float]:
    """One login, each request on a client of its own; whether it unlocked, and its time."""
    started = time.perf_counter()
    login = opaque_snake.OpaqueClient()
    ke1, state = login.start_login(PHRASE)
    async with httpx.AsyncClient(base_url=base, timeout=30) as first:
        answer = await first.post(
            f"/api/v1/vault/tags/{tag_id}/logins", json={"ke1": b64(ke1.to_bytes())}, headers=auth
        )
    if answer.status_code != 200:
        return False, time.perf_counter() - started
    result = login.finish_login(
        opaque_snake.CredentialResponse.from_bytes(unb64(answer.json()["ke2"])), state, PHRASE
    )
    async with httpx.AsyncClient(base_url=base, timeout=30) as second:
        done = await second.post(
            f"/api/v1/vault/tags/{tag_id}/logins/{answer.json()['login_id']}",
            json={"ke3": b64(result.finalization.to_bytes())}, headers=auth,
        )  # fmt: skip
    return done.status_code == 200, time.perf_counter() - started


async def _run(base: str, logins: int) -> dict[str, Any]:
    email = f"vault-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        made = await client.post(
            "/api/v1/auth/register", json={"email": email, "name": "V", "password": PASSWORD}
        )
        assert made.status_code == 201, made.text
        token = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        me = await client.get("/api/v1/me", headers=auth)
        vault = VaultClient(client, auth, uuid.UUID(me.json()["id"]))
        tag_id = await vault.register(PHRASE)
    results = [await _login(base, auth, tag_id) for _ in range(logins)]
    times = sorted(took for _, took in results)
    return {
        "logins": logins,
        "succeeded": sum(ok for ok, _ in results),
        "login_median_ms": round(statistics.median(times) * 1000, 1),
        "login_p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 1),
    }


def _measure(workers: int, logins: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="diarist-vault-") as tmp:
        data_dir = Path(tmp) / "data"
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(data_dir, port, Path(tmp) / "serve.log", workers=workers)
        try:
            _ready(base, server)
            result = asyncio.run(_run(base, logins))
        finally:
            _stop_serve(server)
    return {"api_workers": workers, **result, "passed": result["succeeded"] == logins}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--logins", type=int, default=40)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = _measure(args.workers, args.logins)
    report = {"bench": "vault", "machine": machine(), "load_average_at_start": load, **result}
    print(write_results(report, "vault", "vault-latest"))
    if not result["passed"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
