"""A/B tests, pure: deterministic assignment of members to variants, and the statistics of a report.

* :func:`assign`: ``sha256("<experiment>:<member>")`` -> a bucket in ``0..BUCKETS-1`` -> the variant whose
  cumulative weight covers it. The same member always gets the same variant of an experiment (no state
  needed), different experiments are independent (the key is hashed in), and the split follows the weights.
* :func:`proportion_ci` (Wilson score interval) and :func:`two_proportions` (two-sided z test with the pooled
  proportion) for rates: conversion, store visits.
* :func:`mean_ci` (Student t) and :func:`welch` (Welch's t test, unequal variances) for revenue per member.
* :func:`compare`: one variant against the control, with a verdict that says "not enough data" when that is
  the truth: fewer than ``min_n`` members in either arm, or fewer than ``min_events`` conversions and
  non-conversions in either (the normal approximation would not hold).

scipy provides the distributions (``scipy.stats``).
"""

from o2o.core.experiments.assignment import BUCKETS, Variant, assign, bucket_of
from o2o.core.experiments.stats import (
    Comparison,
    Interval,
    TestResult,
    compare,
    mean_ci,
    proportion_ci,
    two_proportions,
    welch,
)

__all__ = [
    "BUCKETS",
    "Comparison",
    "Interval",
    "TestResult",
    "Variant",
    "assign",
    "bucket_of",
    "compare",
    "mean_ci",
    "proportion_ci",
    "two_proportions",
    "welch",
]
