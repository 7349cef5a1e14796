"""The app's settings as a request dependency (the one Settings object built at start-up)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from diarist.config import Settings


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]
