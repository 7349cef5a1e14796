"""The OpenAPI document is a contract: it changes only on purpose.

The committed copy (`docs/openapi.json`) is what clients are generated from. A change to it is
made by running `python -m tests.test_openapi` and committing the new file with the change that
explains it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from diarist.app import create_app
from diarist.config import Environment, Settings

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def render_openapi() -> str:
    """The app's OpenAPI document as committed: indented, keys sorted (JSON objects have no
    order, and a route moved between routers must not look like an API change)."""
    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        secret_key="openapi-snapshot-secret-key-0123456789abcdef",
    )
    return (
        json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False, sort_keys=True)
        + "\n"
    )


def test_openapi_document_matches_the_committed_copy() -> None:
    assert render_openapi() == SNAPSHOT.read_text(encoding="utf-8"), (
        "The OpenAPI document changed. If on purpose, run `python -m tests.test_openapi` and "
        "commit docs/openapi.json."
    )


if __name__ == "__main__":
    SNAPSHOT.write_text(render_openapi(), encoding="utf-8")
    sys.stdout.write(f"wrote {SNAPSHOT}\n")
