"""`diarist import` as an administrator runs it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from diarist.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"


def test_import_command(cli_env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), env=cli_env)
        return result.exit_code, result.output

    code, out = run(
        "user", "create", "--email", "ana@example.org", "--name", "Ana", "--no-password"
    )
    assert code == 0, out
    journal = str(FIXTURES / "Travel Journal.json")

    code, out = run("import", "dayone", journal, "--user", "ana@example.org", "--dry-run")
    assert code == 1, out  # one entry of the fixture fails: the exit code says so
    assert "3 would be created" in out
    code, out = run("import", "dayone", journal, "--user", "ana@example.org", "--json")
    report = json.loads(out)
    assert (report["created"], report["failed"], report["dry_run"]) == (3, 1, False)
    code, out = run("import", "dayone", journal, "--user", "ana@example.org", "--json")
    assert (json.loads(out)["created"], json.loads(out)["unchanged"]) == (0, 3)

    notes = str(FIXTURES / "notes" / "2024")
    code, out = run("import", "markdown", notes, "--user", "ana@example.org")
    assert (code, "1 were created" in out) == (0, True), out

    code, out = run("import", "dayone", journal, "--user", "nobody@example.org")
    assert code == 2
    assert "user_not_found" in out
    garbage = tmp_path / "garbage.json"
    garbage.write_text("<html>")
    code, out = run("import", "dayone", str(garbage), "--user", "ana@example.org")
    assert code == 2
    assert "invalid_import_file" in out
    code, out = run("import", "evernote", journal, "--user", "ana@example.org")
    assert code == 2  # typer: not one of the formats

    exported = tmp_path / "out.zip"
    ana = ("--user", "ana@example.org")
    code, out = run("export", *ana, "--format", "dayone", "-o", str(exported))
    assert code == 0, out
    with zipfile.ZipFile(exported) as archive:
        assert len(json.loads(archive.read("Journal.json"))["entries"]) == 4
    everything = tmp_path / "all.json"
    code, out = run("export", *ana, "--format", "json", "-o", str(everything))
    assert code == 0, out
    assert len(json.loads(everything.read_text())["tables"]["entries"]) == 4
    code, out = run("export", "--user", "nobody@example.org", "-o", str(exported))
    assert (code, "user_not_found" in out) == (2, True)
