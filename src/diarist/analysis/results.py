"""What a provider returns (no model libraries here: API processes import this module)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class TaskResult:
    task_type: str
    data: dict[str, Any]
    confidence: float | None
    provider_info: dict[str, Any]


@dataclass(frozen=True)
class Analysis:
    results: list[TaskResult]
    embedding: npt.NDArray[np.float32]
    model: str
