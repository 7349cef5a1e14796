"""Errors of the insights domain, each with a stable code."""

from __future__ import annotations

from diarist.errors import NotFound, Unprocessable


class InvalidPeriod(Unprocessable):
    code = "invalid_period"
    title = "Invalid period"


class InsightNotFound(NotFound):
    code = "insight_not_found"
    title = "Insight not found"
