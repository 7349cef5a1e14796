"""JSON responses from models that are valid already: serialised once, never validated again
(FastAPI would validate a returned model against `response_model` a second time), and what the
OpenAPI document says about the responses routes answer with."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel, ConfigDict
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

PROBLEM_JSON = "application/problem+json"


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


class ValidationIssue(BaseModel):
    """One reason a request failed validation (never the submitted value)."""

    loc: list[str | int]
    msg: str
    type: str


def _absent_not_null(schema: JsonDict) -> None:
    properties = schema.get("properties")
    for prop in properties.values() if isinstance(properties, dict) else ():
        if isinstance(prop, dict) and "default" in prop and prop["default"] is None:
            del prop["default"]


class Problem(BaseModel):
    """An RFC 9457 problem details body; an error may add members of its own (e.g. `field`)."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_absent_not_null)

    type: str
    title: str
    status: int
    code: str
    # Absent rather than null when there is nothing to say.
    detail: str | SkipJsonSchema[None] = None
    instance: str | SkipJsonSchema[None] = None
    errors: list[ValidationIssue] | SkipJsonSchema[None] = None  # validation_error only


# Registered under components/schemas by `openapi_components` (FastAPI only collects the models
# of `response_model` and of `responses[...]["model"]`, and the latter as application/json).
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_response(description: str = "problem+json") -> dict[str, Any]:
    """One documented problem+json response."""
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A route's `responses` for the problem+json statuses it may answer with."""
    return {code: problem_response() for code in codes}


def openapi_components() -> dict[str, Any]:
    """The schemas the `$ref`s of `problem_response` point to, for components/schemas."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, "Problem": schema}
