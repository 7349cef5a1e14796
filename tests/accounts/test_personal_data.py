"""Personal data at rest: addresses and where sessions came from are sealed in the database,
opened for their owner; accounts are found by a blind index; the key rotates."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from diarist.accounts.personal_data import (
    IDENTITY_EMAIL,
    KEYS_FILE,
    SESSION_IP,
    USER_EMAIL,
    PersonalData,
    PersonalDataKeyError,
    sealed_key_id,
)
from diarist.cli import cli
from diarist.config import Settings, get_settings
from diarist.db import migrate
from diarist.db.engine import act_as
from diarist.db.provision import DatabaseUrls, libpq_url
from tests.factories.accounts import PASSWORD, login, unique_email

AGENT = "Marker-Browser/7.3 (personal-data-test)"


def _personal(tmp_path: Path, **settings: object) -> PersonalData:
    return PersonalData.from_settings(
        Settings(data_dir=tmp_path, secret_key=SecretStr("s" * 48), **settings)  # type: ignore[arg-type]
    )


def test_a_sealed_value_opens_only_as_itself_under_a_key_that_is_there(tmp_path: Path) -> None:
    personal = _personal(tmp_path)
    sealed = personal.seal(USER_EMAIL, "ada@example.org")
    assert b"ada" not in sealed
    assert personal.open(USER_EMAIL, sealed) == "ada@example.org"
    assert personal.seal(USER_EMAIL, "ada@example.org") != sealed  # a fresh nonce each time
    with pytest.raises(PersonalDataKeyError, match="failed its check"):
        personal.open(SESSION_IP, sealed)  # moved to another column
    flipped = bytearray(sealed)
    flipped[-1] ^= 1
    with pytest.raises(PersonalDataKeyError, match="failed its check"):
        personal.open(USER_EMAIL, bytes(flipped))
    with pytest.raises(PersonalDataKeyError, match="not a sealed value"):
        personal.open(USER_EMAIL, b"\x01short")
    other = _personal(tmp_path / "elsewhere")
    with pytest.raises(PersonalDataKeyError, match="not configured"):
        other.open(USER_EMAIL, sealed)
    # The index: equal for equal addresses, keyed by the secret key only.
    assert personal.email_index("a@example.org") == other.email_index("a@example.org")
    assert personal.email_index("a@example.org") != personal.email_index("b@example.org")
    assert (tmp_path / KEYS_FILE).stat().st_mode & 0o777 == 0o600


def test_keys_from_the_settings_newest_first(tmp_path: Path) -> None:
    old, new = "11" * 32, "22" * 32
    before = _personal(tmp_path, personal_data_keys=SecretStr(old))
    sealed = before.seal(USER_EMAIL, "x@example.org")
    after = _personal(tmp_path, personal_data_keys=SecretStr(f"{new}, {old}"))
    assert after.open(USER_EMAIL, sealed) == "x@example.org"
    assert sealed_key_id(after.seal(USER_EMAIL, "x@example.org")) == after.newest_key_id
    assert after.newest_key_id != sealed_key_id(sealed)
    assert not (tmp_path / KEYS_FILE).exists()
    for bad in ("", "zz" * 32, "11" * 16):
        with pytest.raises(PersonalDataKeyError, match="DIARIST_PERSONAL_DATA_KEYS"):
            _personal(tmp_path, personal_data_keys=SecretStr(bad)).seal(USER_EMAIL, "x")


async def test_addresses_and_browsers_are_sealed_in_the_database(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    email = unique_email("sealed")
    registered = await client.post(
        "/api/v1/auth/register", json={"email": email, "name": "S", "password": PASSWORD}
    )
    assert registered.json()["email"] == email
    token = await login(client, email)
    signed = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"User-Agent": AGENT},
    )
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).json()["email"] == email
    sessions = (await client.get("/api/v1/auth/sessions", headers=headers)).json()
    assert AGENT in {row["user_agent"] for row in sessions}
    export = await client.get("/api/v1/me/export", headers=headers)
    tables = export.json()["tables"]
    assert [row["email"] for row in tables["users"]] == [email]
    assert "email_index" not in tables["users"][0]
    assert AGENT in {row["user_agent"] for row in tables["auth_tokens"]}
    assert signed.status_code == 200

    # What the database holds: every column of the user's rows, as text.
    user_id = uuid.UUID(registered.json()["id"])
    await act_as(session, user_id)
    for table, owner in (("users", "id"), ("auth_tokens", "user_id"), ("audit_log", "user_id")):
        dumped = await session.scalar(
            text(f"SELECT string_agg(t::text, '') FROM {table} t WHERE {owner} = :id"),  # noqa: S608 (constants)
            {"id": user_id},
        )
        assert dumped, table
        assert email not in dumped, table
        assert AGENT not in dumped, table
    found = await session.execute(
        text("SELECT user_id FROM auth_find_account(:index)"),
        {"index": PersonalData.from_settings(settings).email_index(email)},
    )
    assert found.all() == [(user_id,)]


def _trail(urls: DatabaseUrls) -> str:
    """The whole row audit trail as text (read as the system role)."""
    with psycopg.connect(libpq_url(urls.system), autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(string_agg(a::text, ''), '') FROM audit_log a")
        found = row.fetchone()
    assert found is not None
    return str(found[0])


def test_the_revision_seals_what_was_there_and_opens_it_again_going_down(
    fresh_db: DatabaseUrls, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr("m" * 48))
    migrate.downgrade(fresh_db.owner, "0028_security_event_chain", settings)
    user_id = uuid.uuid4()
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, name, auth_provider) VALUES (%s, %s, 'M', 'otp')",
            (user_id, "kept@example.org"),
        )
        conn.execute(
            "INSERT INTO auth_tokens (user_id, kind, token_hash, ip_address, user_agent)"
            " VALUES (%s, 'session', '\\x00', '192.0.2.9', %s)",
            (user_id, AGENT),
        )
        conn.execute(
            "INSERT INTO user_identities (user_id, provider, issuer, subject, email)"
            " VALUES (%s, 'local', 'https://id.example', 'sub-1', 'given@example.org')",
            (user_id,),
        )
    digest = hashlib.sha256(b"kept@example.org").hexdigest()
    assert digest in _trail(fresh_db), "the trail hashed the address (unkeyed) before 0029"
    migrate.upgrade(fresh_db.owner, "head", settings)
    assert digest not in _trail(fresh_db), "and revision 0033 took those hashes out"
    personal = PersonalData.from_settings(settings)
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        user = conn.execute("SELECT email_sealed, email_index FROM users").fetchone()
        token = conn.execute("SELECT ip_sealed, user_agent_sealed FROM auth_tokens").fetchone()
        identity = conn.execute("SELECT email_sealed FROM user_identities").fetchone()
        found = conn.execute(
            "SELECT user_id FROM auth_find_account(%s)",
            (personal.email_index("kept@example.org"),),
        ).fetchone()
    assert user is not None
    assert token is not None
    assert identity is not None
    assert personal.open(IDENTITY_EMAIL, identity[0]) == "given@example.org"
    assert personal.open(USER_EMAIL, user[0]) == "kept@example.org"
    assert personal.open(SESSION_IP, token[0]) == "192.0.2.9"
    assert found == (user_id,)
    migrate.downgrade(fresh_db.owner, "0028_security_event_chain", settings)
    with psycopg.connect(libpq_url(fresh_db.owner), autocommit=True) as conn:
        back = conn.execute(
            "SELECT u.email, t.ip_address, t.user_agent, i.email FROM users u"
            " JOIN auth_tokens t ON t.user_id = u.id JOIN user_identities i ON i.user_id = u.id"
        ).fetchone()
    assert back == ("kept@example.org", "192.0.2.9", AGENT, "given@example.org")
    migrate.upgrade(fresh_db.owner, "head", settings)


def test_rotating_the_key_seals_everything_again(
    cli_env: dict[str, str], fresh_db: DatabaseUrls
) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), env=cli_env)
        return result.exit_code, result.output

    for name in ("rota", "tion"):
        code, out = run(
            "user", "create", "--email", f"{name}@example.org", "--name", name, "--no-password"
        )
        assert code == 0, out
    keys_file = Path(cli_env["DIARIST_DATA_DIR"]) / KEYS_FILE
    first = keys_file.read_text().split()
    assert len(first) == 1

    code, out = run("user", "rotate-key")
    assert code == 0, out
    assert "2 users" in out
    second = keys_file.read_text().split()
    assert second[1:] == first
    code, out = run("user", "rotate-key")
    assert code == 0, out
    third = keys_file.read_text().split()
    assert third[1:] == second[:1]  # the new key and the one before it
    with psycopg.connect(libpq_url(fresh_db.owner)) as conn:
        key_ids = {
            bytes(row[0])
            for row in conn.execute(
                "SELECT substring(email_sealed from 2 for 4) FROM users"
                " UNION SELECT substring(user_agent_sealed from 2 for 4) FROM auth_tokens"
                " WHERE user_agent_sealed IS NOT NULL"
            )
        }
    newest = Settings(data_dir=Path(cli_env["DIARIST_DATA_DIR"]), secret_key=SecretStr("x" * 48))
    assert key_ids == {PersonalData.from_settings(newest).newest_key_id}
    listed = run("user", "list", "--json")[1]
    assert {json.loads(line)["email"] for line in listed.splitlines()} == {
        "rota@example.org",
        "tion@example.org",
    }
    code, out = run("user", "rotate-key", "--reseal-only")
    assert code == 0, out
    assert "0 users" in out  # nothing left to seal again

    configured = {**cli_env, "DIARIST_PERSONAL_DATA_KEYS": "33" * 32}
    get_settings.cache_clear()
    refused = runner.invoke(cli, ["user", "rotate-key"], env=configured)
    assert refused.exit_code == 1
    assert "DIARIST_PERSONAL_DATA_KEYS" in refused.output
