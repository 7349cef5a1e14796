"""Shapes of the operational endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from diarist.ops.children import ChildState


class Health(BaseModel):
    status: Literal["ok"]


class BackupState(BaseModel):
    """The newest backup in the backup dir (docs/backups.md)."""

    made_at: datetime
    age_hours: float
    verified_at: datetime | None
    # The newest backup that `diarist backup verify` checked (None: none was).
    verified_age_hours: float | None = None
    # The newest base backup of point-in-time recovery (None: none).
    base_age_hours: float | None = None
    # Scheduled backups are on and the newest is more than twice their interval old.
    overdue: bool


class Readiness(BaseModel):
    """`degraded`: the API serves, but a process `diarist serve` supervises is restarting (a
    child's state is in `children`; empty when the API runs without `diarist serve`), or
    scheduled backups are overdue (`backup`)."""

    status: Literal["ready", "degraded", "unavailable"]
    database: bool
    migrations: Literal["current", "pending", "unknown"]
    children: list[ChildState] = Field(default_factory=list)
    backup: BackupState | None = None
