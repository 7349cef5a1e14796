"""Effect findings: fingerprints carry the direction of an effect and the window of a trend,
and confidence follows the Benjamini-Hochberg adjusted q-value."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from diarist.insights import stored_insights as stored
from diarist.kit.statistics import Moments


def _test(kind: str, a: tuple[int, float, float], b: tuple[int, float, float]) -> Any:
    return stored.EffectTest(
        kind, f"{kind}:mood:x" if kind != "trend" else "trend:mood", "mood", Moments(*a),
        Moments(*b), suffix=":2026-W12" if kind == "trend" else "",
        data={} if kind == "trend" else {"kind": "tag", "name": "x"},
    )  # fmt: skip


def _sample(values: list[float]) -> tuple[int, float, float]:
    return len(values), sum(values), sum(v * v for v in values)


def test_fingerprints_carry_the_direction_and_the_trend_window() -> None:
    low = _sample([3.0, 4.0, 3.5, 4.5, 3.0, 4.0, 3.5, 4.5, 3.0, 4.0])
    high = _sample([7.0, 8.0, 7.5, 8.5, 7.0, 8.0, 7.5, 8.5, 7.0, 8.0])
    lower = stored.select_effects([_test("tag_effect", low, high)])
    higher = stored.select_effects([_test("tag_effect", high, low)])
    assert [f.fingerprint for f in lower] == ["tag_effect:mood:x:lower"]
    assert [f.fingerprint for f in higher] == ["tag_effect:mood:x:higher"]
    down = stored.select_effects([_test("trend", low, high)])
    assert [f.fingerprint for f in down] == ["trend:mood:down:2026-W12"]
    nothing = SimpleNamespace(
        **{f"{m}_{p}": 0 for m in stored.MEASURES for p in ("n", "sum", "sumsq")}
    )
    later = stored.trend_tests(nothing, nothing, [], date(2026, 4, 20))
    assert later[0].suffix == ":2026-W17"


def test_confidence_follows_the_adjusted_q_value() -> None:
    base = [5.0, 6.0, 5.5, 6.5, 5.0, 6.0, 5.5, 6.5, 5.0, 6.0]
    wide = [4.5, 7.0, 5.0, 6.5, 5.5, 7.5, 4.0, 6.0, 5.0, 7.0, 6.0, 5.5]
    found = stored.select_effects(
        [
            _test("tag_effect", _sample([v + 3 for v in base]), _sample(base)),
            _test("topic_effect", _sample([v + 1.2 for v in wide]), _sample(wide)),
        ]
    )
    confidences = sorted(f.confidence for f in found)
    assert len(found) == 2
    assert confidences[0] < confidences[1]
    for finding in found:
        assert finding.confidence == pytest.approx(
            min(0.999, 1 - finding.data["q_value"]), abs=1e-3
        )
        assert finding.data["tests"] == 2
