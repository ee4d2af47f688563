"""Known truths behind the forecasts' intervals: the arrivals' level model and the shares' variation between periods.

- Series drawn from a local linear trend (a random-walk level of known variance, a fixed slope, a season) with
  Poisson and gamma noise: the level model recovers the injected variances, and its 80% intervals, 1 to 12
  months ahead, cover 70-90% of the next year's counts across many series; the regression line's intervals
  (no level changes: the previous arrivals model) cover far fewer.
- Stays in periods whose shares are drawn from a Dirichlet of known rho, moved by families (siblings share one
  route): the two-scale estimator recovers rho; a one-scale estimator takes the families for a period effect.
- Stays whose half-year multiplies their hazard by exp(N(0, tau2)), families ending together, censored at the
  origin: the two-scale estimator recovers tau2; a hazard multiplier moves a curve's draws to S^theta.
- The per-simulation shares drawn by ``vary_shares`` have the Dirichlet's variance.
"""

from __future__ import annotations

import numpy as np
import pytest

from cscflow.forecast.estimate import (
    duration_heterogeneity,
    expected_ends,
    share_dispersion,
    share_heterogeneity,
)
from cscflow.forecast.level import ArrivalLevel, fit_level, level_paths
from cscflow.forecast.simulate import _ph, vary_shares

SEASON = 0.08 * np.sin(2 * np.pi * np.arange(12) / 12)


def _series(rng: np.random.Generator, n: int, sd_level: float, extra: float, mean: float = 300.0) -> np.ndarray:
    """n + 12 months of counts: log level a random walk (sd ``sd_level`` a month) with a slope of 3% a year,
    the month effects SEASON, a gamma month factor of variance ``extra`` and Poisson noise."""
    t = np.arange(n + 12)
    level = np.log(mean) + 0.03 / 12 * t + np.cumsum(rng.normal(0.0, sd_level, n + 12))
    gamma = rng.gamma(1 / extra, extra, n + 12) if extra > 0 else np.ones(n + 12)
    counts: np.ndarray = rng.poisson(np.exp(level + SEASON[t % 12]) * gamma)
    return counts


def _coverage(sd_level: float, n_series: int, seed: int, ignore_level: bool = False) -> tuple[float, list[float]]:
    """Share of the next 12 months' counts inside the 80% interval of 2,000 simulated paths, over ``n_series``
    series of 48 fitted months; and the fitted level sds."""
    rng = np.random.default_rng(seed)
    inside, fitted = [], []
    for _ in range(n_series):
        y = _series(rng, 48, sd_level, 0.002)
        season = SEASON[np.arange(60) % 12]
        lvl = fit_level(y[:48], season[:48])
        fitted.append(np.sqrt(lvl.sigma2_level))
        if ignore_level:  # the straight line through the months, its slope and level taken as known
            lvl = ArrivalLevel(state=lvl.state, cov=np.zeros((2, 2)), sigma2_level=0.0,
                               sigma2_irregular=lvl.sigma2_irregular, extra=lvl.extra)
        paths = level_paths(lvl, np.arange(1, 13), 2000, rng) + season[48:]
        g = rng.gamma(1 / lvl.extra, lvl.extra, paths.shape) if lvl.extra > 0 else 1.0
        sims = rng.poisson(np.exp(paths) * g)
        lo, hi = np.percentile(sims, [10, 90], axis=0)
        inside.extend(((y[48:] >= lo) & (y[48:] <= hi)).tolist())
    return float(np.mean(inside)), fitted


def test_level_variance_recovered_and_intervals_cover():
    cover, fitted = _coverage(0.03, 120, seed=1)
    assert 0.70 <= cover <= 0.90, cover
    assert 0.02 < float(np.median(fitted)) < 0.04, np.median(fitted)
    # without the level's changes and the state's uncertainty, the same series are covered far less often
    narrow, _ = _coverage(0.03, 120, seed=1, ignore_level=True)
    assert narrow < 0.65, narrow


def test_no_level_change_is_estimated_as_none_and_still_covers():
    cover, fitted = _coverage(0.0, 80, seed=2)
    assert float(np.median(fitted)) < 0.01, np.median(fitted)
    assert 0.70 <= cover <= 0.90, cover


def test_level_fit_reads_the_level_and_irregular():
    rng = np.random.default_rng(3)
    y = _series(rng, 48, 0.0, 0.01, mean=500.0)[:48]
    lvl = fit_level(y, SEASON[np.arange(48) % 12])
    assert abs(lvl.sigma2_irregular - (0.01 + 1 / 500)) < 0.006, lvl.sigma2_irregular
    assert abs(np.expm1(12 * lvl.state[1]) - 0.03) < 0.04, lvl.state
    assert abs(lvl.extra - 0.01) < 0.006, lvl.extra


def _periods(rng: np.random.Generator, rho: float, months: int = 36, families: int = 60) -> tuple[np.ndarray, ...]:
    """Stays by month (months back from the origin) with three routes: each half-year's shares drawn from
    Dirichlet(P (1 - rho) / rho), each family of 1-4 children taking one route."""
    pooled = np.array([0.6, 0.3, 0.1])
    back, target = [], []
    for m in range(months):
        if m % 6 == 0:
            p = rng.dirichlet(pooled * (1 - rho) / rho) if rho > 0 else pooled
        route = rng.choice(3, families, p=p)
        size = rng.integers(1, 5, families)
        back.append(np.full(int(size.sum()), m))
        target.append(np.repeat(route, size))
    return np.concatenate(back), np.concatenate(target)


@pytest.mark.parametrize("rho", [0.0, 0.01, 0.04])
def test_share_variation_recovered_through_families(rho):
    rng = np.random.default_rng(4)
    est, one_scale = [], []
    for _ in range(150):
        back, target = _periods(rng, rho)
        w = np.ones(len(back))
        est.append(share_heterogeneity(back, target, w, 3, period=6))
        phi, n = share_dispersion(back // 6, target, w, 3)
        one_scale.append(max((phi - 1) / (n - 1), 0.0))
    assert abs(float(np.mean(est)) - rho) < 0.25 * rho + 0.0015, (np.mean(est), rho)
    if rho == 0:  # families (2.5 children on one route: a design effect of 3) read as a period effect by one scale
        assert float(np.mean(one_scale)) > 0.0015 > float(np.mean(est)), (np.mean(one_scale), np.mean(est))


def test_vary_shares_is_dirichlet():
    rng = np.random.default_rng(5)
    pooled = np.array([[0.5, 0.3, 0.2, 0.0]])
    p = np.broadcast_to(pooled[None, :, None, :], (20000, 1, 2, 4)).copy()
    rho = 0.05
    out = vary_shares(p, pooled, np.array([rho]), rng)
    assert np.allclose(out.sum(-1), 1.0)
    assert np.all(out[..., 3] == 0.0)
    assert np.allclose(out[:, 0, 0], out[:, 0, 1])  # one draw per simulation and station, every cell
    var = out[:, 0, 0, :3].var(0)
    expected = pooled[0, :3] * (1 - pooled[0, :3]) * rho  # Dirichlet(a P): P (1 - P) / (a + 1), a + 1 = 1 / rho
    assert np.allclose(var, expected, rtol=0.08), (var, expected)
    assert np.allclose(vary_shares(p[:5], pooled, np.array([0.0]), rng), p[:5])


def _durations(rng: np.random.Generator, tau2: float, months: int = 36) -> tuple[np.ndarray, ...]:
    """Stays begun by month (months back from the origin), exponential days (mean 200) times each half-year's
    hazard ratio exp(N(0, tau2)), families of 1-3 children ending together, censored at the origin."""
    back, dur, closed = [], [], []
    for m in range(months):
        if m % 6 == 0:
            ratio = np.exp(rng.normal(0.0, np.sqrt(tau2)))
        size = rng.integers(1, 4, 40)
        days = np.repeat(rng.exponential(200.0 / ratio, 40), size)
        follow = m * 30.44 + rng.uniform(0.0, 30.0, len(days))
        back.append(np.full(len(days), m))
        dur.append(np.minimum(days, follow))
        closed.append(days <= follow)
    return np.concatenate(back), np.concatenate(dur), np.concatenate(closed)


@pytest.mark.parametrize("tau2", [0.0, 0.01, 0.04])
def test_duration_variation_recovered(tau2):
    rng = np.random.default_rng(6)
    est = []
    for _ in range(100):
        back, dur, closed = _durations(rng, tau2)
        est.append(duration_heterogeneity(back, closed, expected_ends(dur, closed), period=6))
    assert abs(float(np.mean(est)) - tau2) < 0.3 * tau2 + 0.003, (np.mean(est), tau2)


def test_hazard_multiplier_moves_the_curve():
    rng = np.random.default_rng(7)
    u = rng.random(200000)
    theta = np.full(len(u), 2.0)
    days = -100.0 * np.log(1.0 - _ph(u, theta))  # exponential quantiles, mean 100, at the moved probabilities
    assert abs(days.mean() - 50.0) < 0.6  # twice the hazard: half the mean
    assert np.allclose(_ph(u[:10], np.ones(10)), u[:10])
