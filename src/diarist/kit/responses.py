"""JSON responses from models that are valid already: serialised once, never validated again
(FastAPI would validate a returned model against `response_model` a second time)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel


def json_response(
    model: BaseModel, status_code: int = 200, *, headers: dict[str, str] | None = None
) -> Response:
    """`model` as the JSON body; the route keeps its `response_model` for the OpenAPI schema."""
    return Response(
        content=model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` for the problem+json statuses it may answer with."""
    return {code: {"description": "problem+json"} for code in codes}
