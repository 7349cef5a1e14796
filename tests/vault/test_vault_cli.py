"""`diarist vault` against a live server (uvicorn in a thread, a database of its own): register,
add a secret entry, list, show, change the phrase; a wrong phrase opens nothing; and the
server-side rotation of the sealing key keeps the previous key for logins in flight."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from diarist.app import create_app
from diarist.cli import cli
from diarist.config import get_settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.vault.keys import sealing_keys
from tests.conftest import make_settings
from tests.factories.accounts import PASSWORD, unique_email


@pytest.fixture
def live_url(fresh_db: DatabaseUrls, tmp_path: Path) -> Iterator[str]:
    settings = make_settings(fresh_db, tmp_path)
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(2, 0), application_name="t")
    )
    app = create_app(settings, database=database)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def test_the_vault_commands(live_url: str, tmp_path: Path) -> None:
    email = unique_email()
    account = {"email": email, "name": "V", "password": PASSWORD}
    assert httpx.post(f"{live_url}/api/v1/auth/register", json=account).status_code == 201
    credentials = {"email": email, "password": PASSWORD}
    signed_in = httpx.post(f"{live_url}/api/v1/auth/login", json=credentials)
    token = signed_in.json()["access_token"]
    phrase, new_phrase, wrong = tmp_path / "p", tmp_path / "n", tmp_path / "w"
    phrase.write_text("a phrase for the cli 123\n")
    new_phrase.write_text("another phrase for the cli 456\n")
    wrong.write_text("not the phrase\n")
    entry = tmp_path / "secret.md"
    entry.write_text("# Only mine\n\nThe cli stored this.\n")
    env = {"DIARIST_URL": live_url, "DIARIST_TOKEN": token}
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["vault", *args], env=env)
        return result.exit_code, result.output

    code, out = run("register", "--phrase-file", str(phrase))
    assert code == 0, out
    tag_id = out.split()[-1]
    code, out = run("add", str(entry), "--phrase-file", str(phrase))
    assert code == 0, out
    object_id = out.split()[-1]
    code, out = run("list", "--phrase-file", str(phrase))
    assert object_id in out
    code, out = run("list", "--phrase-file", str(phrase), "--tag", tag_id)
    assert object_id in out, "straight to the named tag"
    code, out = run("list", "--phrase-file", str(wrong), "--tag", tag_id)
    assert code == 1
    assert "does not open the secret tag" in out
    code, out = run("show", object_id, "--phrase-file", str(phrase))
    assert code == 0, out
    assert out == entry.read_text()
    code, out = run("show", object_id, "--phrase-file", str(wrong))
    assert code == 1
    assert "no secret tag of yours opens" in out
    code, out = run(
        "change-phrase", "--phrase-file", str(phrase), "--new-phrase-file", str(new_phrase)
    )
    assert code == 0, out
    assert run("show", object_id, "--phrase-file", str(phrase))[0] == 1
    code, out = run("show", object_id, "--phrase-file", str(new_phrase))
    assert out == entry.read_text()
    code, out = runner.invoke(cli, ["vault", "show", object_id, "--phrase-file", str(phrase)],
                              env={**env, "DIARIST_TOKEN": "forged"}).exit_code, ""  # fmt: skip
    assert code == 1


def test_rotating_the_sealing_key_keeps_the_previous_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = sealing_keys(data_dir)
    runner = CliRunner()
    get_settings.cache_clear()
    for _ in range(2):
        result = runner.invoke(
            cli, ["vault", "rotate-sealing-key", "--data-dir", str(data_dir)],
            env={"DIARIST_DATA_DIR": str(data_dir)},
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    keys = sealing_keys(data_dir)
    assert len(keys) == 2
    assert first[0] not in keys, "older than the previous key: dropped"
    assert (data_dir / "vault" / "sealing_keys").stat().st_mode & 0o077 == 0
    get_settings.cache_clear()
