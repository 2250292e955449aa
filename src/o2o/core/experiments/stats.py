"""Confidence intervals and significance tests for an A/B report (see the package docstring)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class TestResult:
    statistic: float
    p_value: float


def _check_counts(successes: int, n: int) -> None:
    for name, v in (("successes", successes), ("n", n)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{name} 必须是非负整数 must be a non-negative integer: {v!r}")
    if successes > n:
        raise ValueError(f"成功数不能超过样本数 successes {successes} > n {n}")


def proportion_ci(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval (good near 0 and 1 and for small n); n = 0 gives (0, 0, 1)."""
    _check_counts(successes, n)
    if n == 0:
        return Interval(0.0, 0.0, 1.0)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, float(centre - half))
    high = 1.0 if successes == n else min(1.0, float(centre + half))
    return Interval(p, low, high)


def two_proportions(s1: int, n1: int, s2: int, n2: int) -> TestResult:
    """Two-sided z test of p1 == p2 with the pooled proportion; p = 1 when nothing can be said."""
    _check_counts(s1, n1)
    _check_counts(s2, n2)
    if n1 == 0 or n2 == 0:
        return TestResult(0.0, 1.0)
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return TestResult(0.0, 1.0)
    z = (s2 / n2 - s1 / n1) / se
    return TestResult(z, float(2 * stats.norm.sf(abs(z))))


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Student-t interval of the mean; fewer than 2 values give an unbounded interval around the mean."""
    n = len(values)
    if n == 0:
        return Interval(0.0, -math.inf, math.inf)
    mean = sum(values) / n
    if n < 2:
        return Interval(mean, -math.inf, math.inf)
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * math.sqrt(var / n)
    return Interval(mean, mean - half, mean + half)


def welch(a: Sequence[float], b: Sequence[float]) -> TestResult:
    """Welch's two-sided t test of mean(a) == mean(b); p = 1 when it cannot be computed."""
    if len(a) < 2 or len(b) < 2:
        return TestResult(0.0, 1.0)
    if len(set(a)) == 1 and len(set(b)) == 1:
        return TestResult(0.0, 1.0 if a[0] == b[0] else 0.0)
    res = stats.ttest_ind(b, a, equal_var=False)
    p = float(res.pvalue)
    return TestResult(float(res.statistic), 1.0 if math.isnan(p) else p)


@dataclass(frozen=True, slots=True)
class Comparison:
    """A variant against the control on one metric."""

    metric: str
    control: Interval
    variant: Interval
    lift: float | None  # relative: (variant - control) / control; None when control is 0
    p_value: float
    verdict: str  # "not_enough_data" | "better" | "worse" | "no_difference"
    reason: str  # why "not_enough_data", else ""


def compare(metric: str, *, control: tuple[int, int] | Sequence[float], variant: tuple[int, int] | Sequence[float],
            kind: str, alpha: float = 0.05, min_n: int = 100, min_events: int = 5) -> Comparison:
    """``kind="rate"``: control/variant are (successes, n); ``kind="mean"``: the per-member values."""
    if kind == "rate":
        (s1, n1), (s2, n2) = control, variant  # type: ignore[misc]
        ci1, ci2 = proportion_ci(s1, n1), proportion_ci(s2, n2)
        test = two_proportions(s1, n1, s2, n2)
        n_small = min(n1, n2)
        few = min(s1, n1 - s1, s2, n2 - s2)
        reason = ""
        if n_small < min_n:
            reason = f"每组至少需要 {min_n} 人，目前最少 {n_small} 人 each arm needs {min_n} members, the smaller has {n_small}"
        elif few < min_events:
            reason = (f"转化与未转化各需至少 {min_events} 人，目前最少 {few} each arm needs {min_events} events "
                      f"and non-events, the fewest is {few}")
    elif kind == "mean":
        a, b = list(control), list(variant)  # type: ignore[arg-type]
        ci1, ci2 = mean_ci(a), mean_ci(b)
        test = welch(a, b)
        n_small = min(len(a), len(b))
        reason = (f"每组至少需要 {min_n} 人，目前最少 {n_small} 人 each arm needs {min_n} members, the smaller has "
                  f"{n_small}") if n_small < min_n else ""
    else:
        raise ValueError(f"未知指标类型 Unknown metric kind: {kind!r}")
    lift = (ci2.estimate - ci1.estimate) / ci1.estimate if ci1.estimate else None
    if reason:
        verdict = "not_enough_data"
    elif test.p_value < alpha:
        verdict = "better" if ci2.estimate > ci1.estimate else "worse"
    else:
        verdict = "no_difference"
    return Comparison(metric, ci1, ci2, lift, test.p_value, verdict, reason)
