"""What every command shares: settings with command-line overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diarist.config import Settings, get_settings

DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (DIARIST_DATA_DIR).")
]


def settings_for(data_dir: Path | None = None, **overrides: object) -> Settings:
    """The environment's settings with the options given on the command line."""
    settings = get_settings()
    changes = {key: value for key, value in overrides.items() if value is not None}
    if data_dir is not None:
        changes["data_dir"] = data_dir.expanduser().resolve()
    return settings.model_copy(update=changes) if changes else settings
