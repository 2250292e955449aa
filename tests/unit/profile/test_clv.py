"""BG/NBD and Gamma-Gamma: the log-likelihood against a direct computation of the published formula,
the predictions' edge cases, and the fit recovering parameters from simulated customers."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.profile.clv import (
    CDNOW_BGNBD,
    BgNbd,
    bgnbd_fit,
    bgnbd_log_likelihood,
    gamma_gamma_fit,
    gamma_gamma_log_likelihood,
)


def _direct_bgnbd(r, alpha, a, b, x, t_x, big_t):  # noqa: ANN001, ANN202
    """FHL (2005) eq. 6 written literally with math.gamma (no logs, no tricks)."""
    beta = lambda p, q: math.gamma(p) * math.gamma(q) / math.gamma(p + q)  # noqa: E731
    common = math.gamma(r + x) * alpha ** r / math.gamma(r)
    first = beta(a, b + x) / beta(a, b) * common / (alpha + big_t) ** (r + x)
    second = beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + t_x) ** (r + x) if x > 0 else 0.0
    return math.log(first + second)


@given(st.floats(0.1, 3), st.floats(0.5, 20), st.floats(0.2, 3), st.floats(0.5, 5), st.integers(0, 12),
       st.floats(0.0, 1.0), st.floats(1.0, 60.0))
def test_bgnbd_log_likelihood_matches_the_formula(r, alpha, a, b, x, frac, big_t):
    t_x = frac * big_t if x > 0 else 0.0
    got = bgnbd_log_likelihood((r, alpha, a, b), np.array([x]), np.array([t_x]), np.array([big_t]))[0]
    assert math.isclose(got, _direct_bgnbd(r, alpha, a, b, x, t_x, big_t), rel_tol=1e-9, abs_tol=1e-9)


def test_gamma_gamma_log_likelihood_matches_the_formula():
    p, q, g, x, m = 6.25, 3.74, 15.44, 3, 40.0
    direct = (math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q) + q * math.log(g)
              + (p * x - 1) * math.log(m) + p * x * math.log(x) - (p * x + q) * math.log(g + m * x))
    got = gamma_gamma_log_likelihood((p, q, g), np.array([x]), np.array([m]))[0]
    assert math.isclose(got, direct, rel_tol=1e-12)


def test_published_cdnow_customer_predictions():
    # FHL (2005) sec. 5: a customer with x=2, t_x=30.43, T=38.86 expects about 1.226 purchases in 39 weeks
    got = CDNOW_BGNBD.expected_purchases(39, np.array([2]), np.array([30.43]), np.array([38.86]))[0]
    assert abs(got - 1.226) < 0.01
    assert CDNOW_BGNBD.p_alive(np.array([0]), np.array([0.0]), np.array([38.86]))[0] == 1.0


def test_expected_purchases_grow_with_the_horizon_and_never_go_negative():
    x, t_x, big_t = np.array([0, 1, 5]), np.array([0.0, 10.0, 30.0]), np.array([39.0, 39.0, 39.0])
    short = CDNOW_BGNBD.expected_purchases(10, x, t_x, big_t)
    long = CDNOW_BGNBD.expected_purchases(52, x, t_x, big_t)
    assert np.all(short >= 0) and np.all(long > short)


def test_fit_recovers_simulated_parameters():
    rng = np.random.default_rng(7)
    true = BgNbd(r=0.5, alpha=5.0, a=0.8, b=2.5)
    n, big_t = 6000, 52.0
    lam = rng.gamma(true.r, 1 / true.alpha, n)
    p = rng.beta(true.a, true.b, n)
    xs, txs = np.zeros(n), np.zeros(n)
    for i in range(n):
        t, x, tx = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > big_t:
                break
            x, tx = x + 1, t
            if rng.random() < p[i]:
                break
        xs[i], txs[i] = x, tx
    fit = bgnbd_fit(xs, txs, np.full(n, big_t))
    assert abs(fit.r - true.r) / true.r < 0.2 and abs(fit.alpha - true.alpha) / true.alpha < 0.3
    assert abs(fit.a - true.a) / true.a < 0.4 and abs(fit.b - true.b) / true.b < 0.5
    own = bgnbd_log_likelihood((fit.r, fit.alpha, fit.a, fit.b), xs, txs, np.full(n, big_t)).sum()
    at_true = bgnbd_log_likelihood((true.r, true.alpha, true.a, true.b), xs, txs, np.full(n, big_t)).sum()
    assert own >= at_true - 1e-6  # the maximum is at least as likely as the truth


def test_gamma_gamma_fit_recovers_the_mean_spend():
    rng = np.random.default_rng(3)
    p, q, g = 6.0, 4.0, 15.0
    nu = rng.gamma(q, 1 / g, 4000)
    x = rng.integers(1, 8, 4000)
    m = np.array([rng.gamma(p, 1 / v, k).mean() for v, k in zip(nu, x, strict=True)])
    fit = gamma_gamma_fit(x, m)
    assert abs(fit.population_mean - p * g / (q - 1)) / (p * g / (q - 1)) < 0.1
    spend = fit.expected_spend(np.array([0, 1, 20]), np.array([0.0, 100.0, 100.0]))
    assert spend[0] == fit.population_mean or math.isclose(spend[0], fit.population_mean)
    assert spend[1] < spend[2] < 100.0 + 1e-9  # more purchases: closer to the member's own mean
