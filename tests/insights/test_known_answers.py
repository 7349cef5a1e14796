"""Known answers for the statistics behind insights: Welch's t-test and Benjamini-Hochberg
q-values against SciPy and published examples, moments against the standard library."""

from __future__ import annotations

import math
import statistics as pystats
from collections.abc import Sequence

import pytest

from diarist.kit.statistics import Moments, benjamini_hochberg, student_t_two_sided, welch

# The implementation agrees with SciPy to about 1e-11; 1e-9 still fails a pooled-variance or
# n1 + n2 - 2 df, a one-sided p (half) or a normal instead of a t tail.
REL = 1e-9


def _moments(values: Sequence[float]) -> Moments:
    return Moments(len(values), math.fsum(values), math.fsum(v * v for v in values))


# Welch's t-test.

# Expected t, df and p: scipy.stats.ttest_ind(a, b, equal_var=False) with SciPy 1.17.1
# (NumPy 2.4.6, CPython 3.11.7), run in a virtualenv outside this project on exactly the a
# and b below; the floats are the repr() of its statistic, df and pvalue.
WELCH_REFERENCES = [
    pytest.param(
        [6, 7, 5, 8, 7, 6, 9, 7],
        [5, 4, 6, 5, 3, 6, 5, 4],
        3.709704134011871, 13.54311039484287, 0.002456494822858904,
        id="equal-n-mood-ratings",
    ),
    pytest.param(
        [7.1, 7.3, 6.9, 7.2, 7.0],
        [3.0, 9.5, 5.2, 8.8, 1.9, 6.4, 10.0, 4.1, 7.7, 2.5, 6.0, 8.1],
        1.2360330811826117, 11.168181142163622, 0.24181231516920226,
        id="unequal-n-and-variances",
    ),
    pytest.param(
        [1.0, 2.0], [3.0, 5.0],
        -2.23606797749979, 1.4705882352941178, 0.19872738893452602,
        id="tiny-2-against-2",
    ),
    pytest.param(
        [4.0, 9.0], [1.0, 2.0, 2.5],
        1.838290060036116, 1.062675840827649, 0.3058277771795263,
        id="tiny-2-against-3",
    ),
    pytest.param(
        [10.0, 10.1, 9.9, 10.2, 9.8, 10.0, 10.1, 9.9, 10.0, 10.0, 10.3, 9.7],
        [1.0, 1.4, 0.6, 1.0, 1.3, 0.7, 1.1, 0.9, 1.2, 0.8],
        95.18937413993508, 14.777196518159595, 5.111402929899721e-22,
        id="large-t-tiny-p",
    ),
    pytest.param(
        [3.0, 5.0, 4.0, 6.0], [3.0, 5.0, 4.0, 6.0],
        0.0, 6.0, 1.0,
        id="identical-groups",
    ),
    pytest.param(
        [5.0, 5.0, 5.0, 5.0], [2.0, 4.0, 3.0, 6.0, 1.0],
        2.092457497388747, 4.0, 0.10453999977837544,
        id="one-group-without-spread",
    ),
    pytest.param(
        [30.02, 29.99, 30.11, 29.97, 30.01, 29.99],
        [29.89, 29.93, 29.72, 29.98, 30.02, 29.98],
        1.9590058081081434, 7.030559959884322, 0.09077332428566112,
        id="wikipedia-screws",
    ),
    pytest.param(
        [11, 9, 10, 11, 10, 12, 9, 11, 12, 9],
        [11, 13, 10, 13, 12, 9, 11, 12, 12, 11],
        -1.8325416653445783, 17.900310146211787, 0.08355979161922325,
        id="r-t-test-example",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b", "t", "df", "p"), WELCH_REFERENCES)
def test_welch_matches_scipy(a: list[float], b: list[float], t: float, df: float, p: float) -> None:
    result = welch(_moments(a), _moments(b))
    assert result is not None
    assert result.difference == pytest.approx(pystats.fmean(a) - pystats.fmean(b), rel=REL)
    assert result.t == pytest.approx(t, rel=REL, abs=1e-12)
    assert result.df == pytest.approx(df, rel=REL)
    assert result.p_value == pytest.approx(p, rel=REL)


def test_welch_matches_the_published_wikipedia_example() -> None:
    # Wikipedia, "Student's t-test", Worked examples, Unequal variances: the weights of screws
    # from two machines; published rounded: se ≈ 0.04849, d.f. ≈ 7.031, t ≈ 1.959,
    # two-tailed p = 0.090... (shown to three decimals).
    a, b = [30.02, 29.99, 30.11, 29.97, 30.01, 29.99], [29.89, 29.93, 29.72, 29.98, 30.02, 29.98]
    result = welch(_moments(a), _moments(b))
    assert result is not None
    assert result.difference == pytest.approx(0.095, abs=5e-4)
    assert result.difference / result.t == pytest.approx(0.04849, abs=5e-6)
    assert result.df == pytest.approx(7.031, abs=5e-4)
    assert result.t == pytest.approx(1.959, abs=5e-4)
    assert 0.090 <= result.p_value < 0.091


def test_welch_matches_r_t_test_output() -> None:
    # R's default t.test (Welch) on these samples, as printed in a statistics Q&A answer:
    # "t = -1.8325, df = 17.9, p-value = 0.08356"; means 10.4 and 11.4.
    a, b = [11, 9, 10, 11, 10, 12, 9, 11, 12, 9], [11, 13, 10, 13, 12, 9, 11, 12, 12, 11]
    result = welch(_moments(a), _moments(b))
    assert result is not None
    assert result.difference == pytest.approx(-1.0, rel=REL)
    assert result.t == pytest.approx(-1.8325, abs=5e-5)
    assert result.df == pytest.approx(17.9, abs=5e-2)
    assert result.p_value == pytest.approx(0.08356, abs=5e-6)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param([5.0], [1.0, 2.0, 3.0], id="one-value-in-a"),
        pytest.param([1.0, 2.0, 3.0], [], id="no-values-in-b"),
        pytest.param([4.0, 4.0, 4.0], [6.0, 6.0], id="no-spread-on-either-side"),
    ],
)
def test_welch_is_undefined_without_two_values_or_any_spread(
    a: list[float], b: list[float]
) -> None:
    # SciPy answers nan (or warns) here; insights need "no test", not a number.
    assert welch(_moments(a), _moments(b)) is None


@pytest.mark.parametrize("t", [0.3, 1.0, 2.5, 12.0, -4.0])
def test_two_sided_p_of_one_and_two_degrees_of_freedom_has_a_closed_form(t: float) -> None:
    # Derived by hand: t with 1 df is the Cauchy distribution, P(|T| >= |t|) = 1 - 2/π·atan|t|;
    # with 2 df the CDF is 1/2 + t / (2·sqrt(2 + t²)), so P(|T| >= |t|) = 1 - |t|/sqrt(2 + t²).
    assert student_t_two_sided(t, 1) == pytest.approx(1 - 2 / math.pi * math.atan(abs(t)), rel=REL)
    assert student_t_two_sided(t, 2) == pytest.approx(1 - abs(t) / math.sqrt(2 + t * t), rel=REL)


# Benjamini-Hochberg.

# The 15 p-values of the example in Benjamini & Hochberg (1995), JRSS B 57(1) 289-300 (rt-PA
# against APSAC, "cardiac and other events"), as SciPy's false_discovery_control documents it.
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
           0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]  # fmt: skip

# Expected q-values: scipy.stats.false_discovery_control(p, method="bh") with SciPy 1.17.1,
# checked equal (to 1e-15) to statsmodels 0.15.0 multipletests(p, method="fdr_bh")[1]; run
# outside this project on exactly the p below. The small cases are also checked by hand.
BH_REFERENCES = [
    pytest.param(
        BH_1995,
        [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.06385714285714286, 0.06385714285714286,
         0.0645, 0.07650000000000001, 0.486, 0.5811818181818181, 0.7148749999999999,
         0.7532307692307693, 0.8132142857142857, 1.0],
        id="benjamini-hochberg-1995",
    ),
    # 0.01·5/1 = 0.05, 0.03·5/2 = 0.075, both 0.04·5/4 = 0.05: the step-up minimum makes the
    # first four 0.05, ties get the same q.
    pytest.param([0.01, 0.04, 0.04, 0.03, 0.5], [0.05, 0.05, 0.05, 0.05, 0.5], id="ties"),
    # Sorted: 0.01, 0.03, 0.04, 0.2, 0.5 -> 0.05, 0.0667, 0.0667, 0.25, 0.5; given back in the
    # order of the input.
    pytest.param(
        [0.5, 0.01, 0.2, 0.03, 0.04],
        [0.5, 0.05, 0.25, 0.06666666666666667, 0.06666666666666667],
        id="unsorted-order-preserved",
    ),
    # 0.6·2/1 = 1.2 would exceed 1: the step-up minimum with 0.9·2/2 brings it to 0.9.
    pytest.param([0.6, 0.9], [0.9, 0.9], id="never-above-one"),
    pytest.param([0.9, 0.8, 0.95], [0.95, 0.95, 0.95], id="all-large"),
    pytest.param([0.2], [0.2], id="single-value"),
    pytest.param([], [], id="empty"),
]  # fmt: skip


@pytest.mark.parametrize(("p", "q"), BH_REFERENCES)
def test_benjamini_hochberg_matches_scipy(p: list[float], q: list[float]) -> None:
    assert benjamini_hochberg(p) == pytest.approx(q, rel=REL)


def test_benjamini_hochberg_1995_rejects_four_at_five_percent() -> None:
    # The paper's conclusion: at FDR 0.05 the procedure rejects the four smallest p-values
    # (Bonferroni only three: 0.0095 · 15 > 0.05).
    q = benjamini_hochberg(BH_1995)
    assert [p for p, adjusted in zip(BH_1995, q, strict=True) if adjusted <= 0.05] == BH_1995[:4]


@pytest.mark.parametrize(("p", "q"), BH_REFERENCES)
def test_q_values_are_monotone_in_p_and_between_p_and_one(p: list[float], q: list[float]) -> None:
    adjusted = benjamini_hochberg(p)
    in_p_order = [a for _, a in sorted(zip(p, adjusted, strict=True))]
    assert in_p_order == sorted(in_p_order)
    # p·m/m can round one ulp below p (0.95·3/3 = 0.9499999999999998).
    assert all(raw * (1 - 1e-15) <= a <= 1.0 for raw, a in zip(p, adjusted, strict=True))


# Moments.

DATA_SETS = [
    pytest.param([7.0, 5.0, 8.0, 6.0, 9.0, 4.0, 7.0], id="mood-ratings"),
    pytest.param([30.02, 29.99, 30.11, 29.97, 30.01, 29.99], id="small-spread-far-from-zero"),
    pytest.param([-0.8, 0.35, 0.1, -0.05, 0.9, 0.62, -0.33, 0.0], id="sentiments"),
    pytest.param([120.0, 850.0, 33.0, 2400.0, 410.0], id="word-counts"),
    pytest.param([3.0, 4.0], id="two-values"),
]


@pytest.mark.parametrize("values", DATA_SETS)
def test_mean_and_stddev_match_the_standard_library(values: list[float]) -> None:
    moments = _moments(values)
    assert moments.n == len(values)
    assert moments.mean == pytest.approx(pystats.fmean(values), rel=REL)
    assert moments.variance == pytest.approx(pystats.variance(values), rel=REL)
    assert moments.stddev == pytest.approx(pystats.stdev(values), rel=REL)


@pytest.mark.parametrize("first", DATA_SETS)
@pytest.mark.parametrize(
    "second",
    [
        pytest.param([6.0, 2.0, 9.0, 5.0], id="more-ratings"),
        pytest.param([0.5], id="one-value"),
    ],
)
def test_moments_combine_and_separate_exactly(first: list[float], second: list[float]) -> None:
    combined = _moments(first) + _moments(second)
    assert combined.n == len(first) + len(second)
    assert combined.mean == pytest.approx(pystats.fmean(first + second), rel=REL)
    assert combined.stddev == pytest.approx(pystats.stdev(first + second), rel=REL)
    rest = combined - _moments(second)
    assert rest.n == len(first)
    assert rest.mean == pytest.approx(pystats.fmean(first), rel=REL)
    assert rest.stddev == pytest.approx(pystats.stdev(first), rel=REL)


def test_fewer_than_two_values_have_no_spread() -> None:
    one = _moments([6.5])
    assert (one.mean, one.variance, one.stddev) == (6.5, None, None)
    none = Moments.of(None, None, None)  # SUM over no rows is NULL
    assert none == Moments(0, 0.0, 0.0)
    assert (none.mean, none.variance, none.stddev) == (None, None, None)


def test_constant_values_have_zero_spread_not_a_rounding_error() -> None:
    for values in ([0.1] * 3, [0.3] * 10, [7.0] * 5, [29.99] * 6):
        moments = _moments(values)
        # Σx² - (Σx)²/n can round below zero; the variance is clamped, never negative or NaN.
        assert moments.variance is not None
        assert moments.variance >= 0.0
        assert moments.stddev == pytest.approx(pystats.stdev(values), abs=1e-6)
