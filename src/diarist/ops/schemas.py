"""Shapes of the operational endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from diarist.ops.children import ChildState


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    """`degraded`: the API serves, but a process `diarist serve` supervises is restarting (a
    child's state is in `children`; empty when the API runs without `diarist serve`)."""

    status: Literal["ready", "degraded", "unavailable"]
    database: bool
    migrations: Literal["current", "pending", "unknown"]
    children: list[ChildState] = Field(default_factory=list)
