"""Funnel limits against FunnelPlotR's published values, Clopper-Pearson (statsmodels) and a
root-finding Poisson reference; overdispersion against a naive computation in the test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.proportion import proportion_confint

from cscflow.analytics.funnel import FunnelPlot
from cscflow.errors import AnalysisError


def test_ratio_limits_equal_funnelplotr_published_values():
    # FunnelPlotR exact Poisson limits for standardised ratios at E = 15, 20, 30 (quoted in issue 7)
    lim = FunnelPlot("ratio").limits_at([15, 20, 30])
    assert lim["lower95"].round(7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert lim["upper998"].round(6).tolist() == [2.082907, 1.902094, 1.702771]
    assert list(lim.columns) == ["lower95", "upper95", "lower998", "upper998"]


def test_poisson_limits_equal_root_finding_reference():
    # Garwood: the lower limit L has P(X >= E | L) = a/2, the upper U has P(X <= E | U) = a/2
    for e in [4, 15, 57, 300]:
        lim = FunnelPlot("ratio").limits_at([e]).iloc[0]
        for level, tag in [(0.95, "95"), (0.998, "998")]:
            a = 1 - level
            lo = optimize.brentq(lambda m, e=e, a=a: stats.poisson.sf(e - 1, m) - a / 2, 1e-9, 10 * e)
            hi = optimize.brentq(lambda m, e=e, a=a: stats.poisson.cdf(e, m) - a / 2, 1e-9, 10 * e + 50)
            assert abs(lim[f"lower{tag}"] - lo / e) < 1e-9
            assert abs(lim[f"upper{tag}"] - hi / e) < 1e-9


def test_rate_limits_are_target_times_ratio_limits_at_expected_count():
    fp = FunnelPlot("rate", target=67).fit([500, 80], [70_000, 12_000])
    pops = np.array([5_000, 40_000, 250_000])
    rate = fp.limits_at(pops)
    ratio = FunnelPlot("ratio").limits_at(pops * 67 / 10_000)
    assert np.allclose(rate.to_numpy(), 67 * ratio.to_numpy(), rtol=1e-12)


def test_proportion_limits_equal_clopper_pearson_when_n_p0_is_whole():
    fp = FunnelPlot("proportion", target=0.2).fit([10, 30], [50, 100])
    for n in [10, 50, 135, 1000]:
        k = int(round(n * 0.2))
        lim = fp.limits_at([n]).iloc[0]
        lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")
        assert abs(lim["lower95"] - lo) < 1e-9 and abs(lim["upper95"] - hi) < 1e-9
        lo, hi = proportion_confint(k, n, alpha=0.002, method="beta")
        assert abs(lim["lower998"] - lo) < 1e-9 and abs(lim["upper998"] - hi) < 1e-9


def _naive_dispersion(num, den, target):
    z = []
    for o, n in zip(num, den, strict=True):
        y = np.arcsin(np.sqrt(o / n))
        z.append((y - np.arcsin(np.sqrt(target))) * 2 * np.sqrt(n))
    z = np.array(z)
    q10, q90 = np.quantile(z, [0.1, 0.9])
    zw = [min(max(v, q10), q90) for v in z]
    phi = sum(v * v for v in zw) / len(z)
    w = [4 * n for n in den]
    tau2 = max(0.0, (len(z) * phi - (len(z) - 1)) / (sum(w) - sum(x * x for x in w) / sum(w)))
    return phi, tau2


def test_overdispersion_phi_and_tau2_equal_naive_and_widen_limits():
    rng = np.random.default_rng(3)
    den = rng.integers(200, 3000, 60).astype(float)
    p = np.clip(rng.normal(0.22, 0.05, 60), 0.01, 0.9)  # extra-binomial variation
    num = rng.binomial(den.astype(int), p).astype(float)
    exact = FunnelPlot("proportion").fit(num, den)
    mult = FunnelPlot("proportion", overdispersion="multiplicative").fit(num, den)
    add = FunnelPlot("proportion", overdispersion="additive").fit(num, den)
    phi, tau2 = _naive_dispersion(num, den, num.sum() / den.sum())
    assert abs(add.phi_ - phi) < 1e-12 and abs(add.tau2_ - tau2) < 1e-15
    assert phi > 1
    grid = [500, 2000]
    zq = stats.norm.ppf(0.975)
    t0 = np.arcsin(np.sqrt(num.sum() / den.sum()))
    for n, row in zip(grid, mult.limits_at(grid).itertuples(), strict=True):
        assert abs(row.upper95 - np.sin(t0 + zq * np.sqrt(phi) / (2 * np.sqrt(n))) ** 2) < 1e-12
    for n, row in zip(grid, add.limits_at(grid).itertuples(), strict=True):
        assert abs(row.lower95 - np.sin(t0 - zq * np.sqrt(1 / (4 * n) + tau2)) ** 2) < 1e-12
    assert (add.limits_at(grid)["upper998"] > exact.limits_at(grid)["upper998"]).all()
    assert len(add.outliers_) <= len(exact.outliers_)


def test_outliers_flags_highlight_and_plot():
    den = np.full(20, 10_000.0)
    num = np.full(20, 60.0)
    num[3] = 130  # far above
    labels = [f"LA{i}" for i in range(20)]
    fp = FunnelPlot("rate").fit(num, den, labels=labels, highlight="LA3", neighbours=["LA1", "LA2"])
    assert fp.outliers_["label"].tolist() == ["LA3"]
    assert fp.outliers_["flag"].iloc[0] == "high (99.8%)"
    t = fp.summary
    assert t.loc[t["label"] == "LA3", "highlight"].item() and t["neighbour"].sum() == 2
    fig = fp.plot(title="CLA rate")
    names = [tr.name for tr in fig.data]
    assert "LA3" in names and "statistical neighbours" in names


def test_bad_units_are_named():
    with pytest.raises(AnalysisError, match="'B'"):
        FunnelPlot("proportion").fit([1, 5], [10, 4], labels=["A", "B"])
    with pytest.raises(AnalysisError, match="unknown funnel kind"):
        FunnelPlot("odds")
