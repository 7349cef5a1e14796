"""What a provider returns (no model libraries here: API processes import this module)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# The embedding model of the local provider; its HNSW index is made by the analysis migration.
MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384


def remote_model_name(model: str) -> str:
    """How a remote embedding model is named in `entry_embeddings.model`."""
    return f"openai:{model}"


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
