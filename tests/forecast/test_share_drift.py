"""Known truths behind the shares' local level (``estimate.share_drift``).

- A share drifting linearly over six years (10% to 4%): the local level at the origin is near the truth and
  much nearer than the pooled mean of the window; the discount found is below 1.
- A constant share: the discount is 1 in most series and the level's error about the pooled mean's.
- The half-year variation rho is read about the level's one-step-ahead predictions: a drift alone is not taken
  for variation (the pooled reference reads it as rho > 0), and half-years drawn from a Dirichlet of known rho
  about a constant share give rho back.
"""

from __future__ import annotations

import numpy as np

from cscflow.forecast.estimate import share_discount, share_drift, share_heterogeneity

MONTHS, PER_MONTH = 72, 80


def _stays(rng: np.random.Generator, drift: bool, rho: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Stays by months before the origin (0 the last) going to one of three targets; the first target's share
    runs from 10% to 4% at the origin (``drift``) or is 7%; each half-year's shares Dirichlet(p (1 - rho) / rho)
    about them when ``rho`` > 0."""
    back = np.repeat(np.arange(MONTHS), PER_MONTH)
    p0 = 0.10 - 0.06 * (MONTHS - 1 - back) / (MONTHS - 1) if drift else np.full(len(back), 0.07)
    p = np.stack([p0, np.full(len(back), 0.3), 0.7 - p0], axis=1)
    if rho > 0:
        for h in np.unique(back // 6):
            m = back // 6 == h
            p[m] = rng.dirichlet(p[m][0] * (1 - rho) / rho)
    u = rng.random(len(back))
    target = (u[:, None] > np.cumsum(p, axis=1)).sum(1).clip(0, 2)
    return back, target


def _errors(drift: bool, truth: float, n: int = 20) -> tuple[float, float, list[float]]:
    e_level, e_pooled, lams = [], [], []
    for seed in range(n):
        back, target = _stays(np.random.default_rng(seed), drift)
        lam, level, _ = share_drift(back, target, np.ones(len(target)), 3)
        pooled = np.bincount(target, minlength=3) / len(target)
        e_level.append(abs(level[0] - truth))
        e_pooled.append(abs(pooled[0] - truth))
        lams.append(lam)
    return float(np.mean(e_level)), float(np.mean(e_pooled)), lams


def test_drifting_share_recovered_at_the_origin():
    e_level, e_pooled, lams = _errors(True, 0.04)
    assert e_level < 0.01, e_level  # the level lags a straight line by about its weights' mean age
    assert e_level < e_pooled / 3, (e_level, e_pooled)  # pooled: 0.07 against 0.04
    assert max(lams) < 1.0


def test_constant_share_no_worse_than_pooled():
    e_level, e_pooled, lams = _errors(False, 0.07)
    assert np.mean(np.array(lams) == 1.0) >= 0.5, lams
    assert e_level <= 1.3 * e_pooled, (e_level, e_pooled)  # a discount below 1 by chance costs a little


def test_rho_about_the_level_not_the_drift():
    pooled, about_level = [], []
    for seed in range(10):
        back, target = _stays(np.random.default_rng(seed), True)
        w = np.ones(len(target))
        pooled.append(share_heterogeneity(back, target, w, 3))
        about_level.append(share_drift(back, target, w, 3)[2])
    # the pooled reference takes the drift for variation (about 0.003); the level's predictions far less
    assert np.mean(about_level) < np.mean(pooled) / 2, (about_level, pooled)
    reads = [share_drift(*_stays(np.random.default_rng(s), False, rho=0.01), np.ones(MONTHS * PER_MONTH), 3)[2]
             for s in range(12)]
    assert 0.006 < np.mean(reads) < 0.018, reads  # the predictions' own error adds a little


def test_discount_edge_cases():
    half = np.array([0, 0, 1, 1])
    assert share_discount(half, np.array([0, 1, 0, 1]), np.ones(4), 2) == 1.0  # under three half-years
    assert share_discount(np.array([0, 1, 2]), np.zeros(3, dtype=int), np.ones(3), 2) == 1.0  # one target
