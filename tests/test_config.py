"""Settings: flat and nested names, secrets, pool arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from diarist.config import DatabaseSettings, Environment, Settings, default_data_dir
from diarist.db.engine import normalize_url, plan_pool, server_max_connections


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_flat_and_nested_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIARIST_HOST", "::")
    monkeypatch.setenv("DIARIST_PORT", "9001")
    monkeypatch.setenv("DIARIST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DIARIST_DATABASE_URL", "postgresql://app@db/diarist")
    monkeypatch.setenv("DIARIST_DB__POOL_TOTAL", "40")
    monkeypatch.setenv("DIARIST_LOG__FORMAT", "console")
    settings = _settings()
    assert (settings.host, settings.port, settings.data_dir) == ("::", 9001, tmp_path)
    assert settings.db.pool_total == 40
    assert settings.log.format == "console"
    assert not settings.embedded


def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIARIST_PORT", "70000")
    with pytest.raises(ValueError, match="port"):
        _settings()


def test_defaults_run_embedded_on_port_8000(tmp_path: Path) -> None:
    settings = _settings(data_dir=tmp_path)
    assert settings.embedded
    assert settings.port == 8000


def test_checkout_data_dir_is_var(monkeypatch: pytest.MonkeyPatch) -> None:
    repo = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(repo)
    assert default_data_dir() == repo / "var"


@pytest.mark.parametrize("placeholder", ["change-me", "secret", "CHANGEME"])
def test_placeholder_secret_refused_outside_development(placeholder: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="placeholder"):
        _settings(secret_key=placeholder, data_dir=tmp_path).checked_secret_key()
    dev = _settings(secret_key=placeholder, data_dir=tmp_path, environment=Environment.DEVELOPMENT)
    assert dev.checked_secret_key().get_secret_value() == placeholder


def test_generated_secret_is_kept_across_restarts(tmp_path: Path) -> None:
    first = _settings(data_dir=tmp_path).checked_secret_key().get_secret_value()
    second = _settings(data_dir=tmp_path).checked_secret_key().get_secret_value()
    assert first == second
    assert len(first) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_pool_is_split_among_processes() -> None:
    settings = DatabaseSettings(pool_total=25, pool_max_total=50)
    three = plan_pool(settings, 3)  # two API workers and the job worker
    assert (three.size, three.size + three.overflow) == (8, 16)
    assert 3 * (three.size + three.overflow) <= settings.pool_max_total
    assert plan_pool(settings, 100).size == 1


def test_server_allows_every_pool_at_peak() -> None:
    assert server_max_connections(DatabaseSettings()) >= 50 + 20
    assert server_max_connections(DatabaseSettings(pool_max_total=300)) == 320


def test_database_url_schemes() -> None:
    assert normalize_url("postgres://u@h/d").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/d").database == "d"
    with pytest.raises(ValueError, match="unsupported"):
        normalize_url("mysql://u@h/d")
