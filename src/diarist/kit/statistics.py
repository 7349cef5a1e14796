"""Means, standard deviations and Welch's t-test from (n, Σx, Σx²): what stored statistics
combine into, exactly, for any period or subset."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Moments:
    n: int
    total: float
    sumsq: float

    @classmethod
    def of(cls, n: float | None, total: float | None, sumsq: float | None) -> Moments:
        """From database aggregates (sums of nothing come back as NULL)."""
        return cls(int(n or 0), float(total or 0), float(sumsq or 0))

    def __sub__(self, other: Moments) -> Moments:
        return Moments(self.n - other.n, self.total - other.total, self.sumsq - other.sumsq)

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.total + other.total, self.sumsq + other.sumsq)

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        """The sample variance (n - 1); None below two values."""
        if self.n < 2:
            return None
        return max(0.0, (self.sumsq - self.total * self.total / self.n) / (self.n - 1))

    @property
    def stddev(self) -> float | None:
        variance = self.variance
        return math.sqrt(variance) if variance is not None else None


def moments_of(row: Any, measure: str) -> Moments:
    """The n, Σ, Σ² of `measure` in a row of sums (`mood_n`, `mood_sum`, `mood_sumsq`...)."""
    return Moments.of(
        getattr(row, f"{measure}_n"),
        getattr(row, f"{measure}_sum"),
        getattr(row, f"{measure}_sumsq"),
    )


@dataclass(frozen=True)
class Welch:
    difference: float  # mean of a - mean of b
    t: float
    df: float
    p_value: float  # two-sided


def welch(a: Moments, b: Moments) -> Welch | None:
    """Welch's unequal-variance t-test of a against b; None when either side has fewer than
    two values or both have no spread."""
    va, vb = a.variance, b.variance
    if va is None or vb is None or a.mean is None or b.mean is None:
        return None
    sa, sb = va / a.n, vb / b.n
    se2 = sa + sb
    if se2 <= 0:
        return None
    difference = a.mean - b.mean
    t = difference / math.sqrt(se2)
    df = se2 * se2 / ((sa * sa) / (a.n - 1) + (sb * sb) / (b.n - 1))
    return Welch(difference=difference, t=t, df=df, p_value=student_t_two_sided(t, df))


def student_t_two_sided(t: float, df: float) -> float:
    """P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: I_{df/(df+t²)}(df/2, 1/2)."""
    return _incomplete_beta(df / (df + t * t), df / 2, 0.5)


def _incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (continued fraction, Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _incomplete_beta(1 - x, b, a)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-12:
            break
    return math.exp(log_front) * result / a


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given: reporting every
    test with q <= alpha keeps the expected share of false findings among those reported at
    most alpha (for independent or positively dependent tests)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = running
    return adjusted
