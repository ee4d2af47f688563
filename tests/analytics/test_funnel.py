"""Funnel limits against FunnelPlotR's published values, Clopper-Pearson (statsmodels), a
root-finding Poisson reference and a naive loop over counts for the discrete (Spiegelhalter)
limits; the false-alarm rate under the null computed exactly from the binomial / Poisson pmf;
overdispersion against a naive computation and data simulated with a known tau^2."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.proportion import proportion_confint

from cscflow.analytics.funnel import FunnelPlot
from cscflow.errors import AnalysisError


def test_ratio_limits_equal_funnelplotr_published_values():
    # FunnelPlotR exact Poisson limits for standardised ratios at E = 15, 20, 30 (quoted in issue 7)
    lim = FunnelPlot("ratio", limits="continuous").limits_at([15, 20, 30])
    assert lim["lower95"].round(7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert lim["upper998"].round(6).tolist() == [2.082907, 1.902094, 1.702771]
    assert list(lim.columns) == ["lower95", "upper95", "lower998", "upper998"]


def test_poisson_limits_equal_root_finding_reference():
    # Garwood: the lower limit L has P(X >= E | L) = a/2, the upper U has P(X <= E | U) = a/2
    for e in [4, 15, 57, 300]:
        lim = FunnelPlot("ratio", limits="continuous").limits_at([e]).iloc[0]
        for level, tag in [(0.95, "95"), (0.998, "998")]:
            a = 1 - level
            lo = optimize.brentq(lambda m, e=e, a=a: stats.poisson.sf(e - 1, m) - a / 2, 1e-9, 10 * e)
            hi = optimize.brentq(lambda m, e=e, a=a: stats.poisson.cdf(e, m) - a / 2, 1e-9, 10 * e + 50)
            assert abs(lim[f"lower{tag}"] - lo / e) < 1e-9
            assert abs(lim[f"upper{tag}"] - hi / e) < 1e-9


@pytest.mark.parametrize("limits", ["discrete", "continuous"])
def test_rate_limits_are_target_times_ratio_limits_at_expected_count(limits):
    fp = FunnelPlot("rate", target=67, overdispersion="none", limits=limits).fit([500, 80], [70_000, 12_000])
    pops = np.array([5_000, 40_000, 250_000])
    rate = fp.limits_at(pops)
    ratio = FunnelPlot("ratio", limits=limits).limits_at(pops * 67 / 10_000)
    assert np.allclose(rate.to_numpy(), 67 * ratio.to_numpy(), rtol=1e-9)


def test_proportion_limits_equal_clopper_pearson_when_n_p0_is_whole():
    fp = FunnelPlot("proportion", target=0.2, limits="continuous", overdispersion="none").fit([10, 30], [50, 100])
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
    exact = FunnelPlot("proportion", overdispersion="none").fit(num, den)
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


# -- discrete limits (Spiegelhalter 2005, interpolated between integer quantiles) -------------------

def _naive_discrete(pmf: list[float], q: float) -> tuple[float, float]:
    """Lower and upper limits on the count scale by a loop over counts: the lower interpolates
    between the last count with F < q and the first with F >= q; the upper between the last count
    with P(X >= k) > q and the next one."""
    cdf = np.cumsum(pmf)
    r = next(i for i, c in enumerate(cdf) if c >= q)
    below = cdf[r - 1] if r > 0 else 0.0
    lower = r - (cdf[r] - q) / (cdf[r] - below)
    ge = [1 - (cdf[i - 1] if i > 0 else 0.0) for i in range(len(pmf))]  # P(X >= i)
    k = max(i for i, g in enumerate(ge) if g > q)
    nxt = ge[k + 1] if k + 1 < len(ge) else 0.0
    upper = k + (ge[k] - q) / (ge[k] - nxt)
    return lower, upper


@pytest.mark.parametrize("n,p", [(5, 0.1), (20, 0.3), (137, 0.02), (400, 0.5), (60, 0.9)])
def test_discrete_proportion_limits_equal_a_naive_loop_and_mirror(n, p):
    fp = FunnelPlot("proportion", target=p)
    lim = fp.limits_at([n]).iloc[0]
    pmf = [stats.binom.pmf(i, n, p) for i in range(n + 1)]
    for tag, level in [("95", 0.95), ("998", 0.998)]:
        lo, hi = _naive_discrete(pmf, (1 - level) / 2)
        assert abs(lim[f"lower{tag}"] - min(max(lo / n, 0), 1)) < 1e-9
        assert abs(lim[f"upper{tag}"] - min(max(hi / n, 0), 1)) < 1e-9
    # the binomial is symmetric: the upper limit for p is one minus the lower limit for 1 - p
    mirror = FunnelPlot("proportion", target=1 - p).limits_at([n]).iloc[0]
    assert abs(lim["upper998"] - (1 - mirror["lower998"])) < 1e-9
    assert abs(lim["upper95"] - (1 - mirror["lower95"])) < 1e-9


@pytest.mark.parametrize("e", [0.4, 3.0, 15.0, 57.3, 800.0])
def test_discrete_poisson_limits_equal_a_naive_loop(e):
    lim = FunnelPlot("ratio").limits_at([e]).iloc[0]
    top = int(stats.poisson.isf(1e-15, e)) + 5
    pmf = [stats.poisson.pmf(i, e) for i in range(top)]
    for tag, level in [("95", 0.95), ("998", 0.998)]:
        lo, hi = _naive_discrete(pmf, (1 - level) / 2)
        assert abs(lim[f"lower{tag}"] - max(lo, 0) / e) < 1e-9
        assert abs(lim[f"upper{tag}"] - hi / e) < 1e-9


GRID_N = [3, 5, 10, 20, 50, 100, 200, 500, 1000]
TARGETS = [0.02, 0.1, 0.3, 0.5, 0.9]


def _false_alarms(kind: str, n: float, p: float, **kw) -> tuple[float, float, FunnelPlot]:
    """Exact probability, under the target, that a unit is flagged at 99.8% and at 95%: every
    possible count is fitted and flagged by FunnelPlot itself, then weighted by its pmf."""
    if kind == "proportion":
        x = np.arange(int(n) + 1)
        den = np.full(len(x), float(n))
        pmf = stats.binom.pmf(x, int(n), p)
        fp = FunnelPlot("proportion", target=p, overdispersion="none", **kw)
    else:  # Poisson with expected count n p: a rate per 10,000 with target 67
        mu = n * p
        x = np.arange(int(stats.poisson.isf(1e-15, mu)) + 3)
        den = np.full(len(x), mu / 0.0067)
        pmf = stats.poisson.pmf(x, mu)
        fp = FunnelPlot("rate", target=67, overdispersion="none", **kw)
    t = fp.fit(x, den).summary
    f998, f95 = t["flag"].str.contains("99.8").to_numpy(), (t["flag"] != "").to_numpy()
    if kw.get("limits", "discrete") == "discrete":  # the drawn limits and the flags agree
        assert (((t["value"] > t["upper998"]) | (t["value"] < t["lower998"])).to_numpy() == f998).all()
        assert (((t["value"] > t["upper95"]) | (t["value"] < t["lower95"])).to_numpy() == f95).all()
    return float(pmf[f998].sum()), float(pmf[f95].sum()), fp


@pytest.mark.parametrize("kind", ["proportion", "poisson"])
def test_false_alarm_rate_under_the_null_never_exceeds_nominal(kind):
    worst998 = worst95 = 0.0
    for n in GRID_N:
        for p in TARGETS:
            a998, a95, _ = _false_alarms(kind, n, p)
            assert a998 <= 0.002 + 1e-12, (kind, n, p, a998)
            assert a95 <= 0.05 + 1e-12, (kind, n, p, a95)
            worst998, worst95 = max(worst998, a998), max(worst95, a95)
    # not vacuous: the limits are not so wide that nothing is ever flagged
    assert worst998 > 0.0015 and worst95 > 0.04
    print(f"{kind}: worst false-alarm rate over the grid {worst998:.5f} at 99.8%, {worst95:.4f} at 95%")


def test_clopper_pearson_limits_around_n_p0_flag_small_units_far_too_often():
    # the old default: a 0% or 100% unit is always outside, so at n = 5, p = 0.1 most units are flagged
    a998, _, _ = _false_alarms("proportion", 5, 0.1, limits="continuous")
    assert a998 > 0.5
    a998, _, _ = _false_alarms("proportion", 5, 0.1)
    assert a998 < 0.002


def test_normal_limits_equal_funnelplotr_unadjusted_proportion_formula():
    # FunnelPlotR's proportion limits: sin(asin(sqrt(p0)) +- z / (2 sqrt n))^2, truncated to [0, 1]
    fp = FunnelPlot("proportion", target=0.3, limits="normal")
    for n in [8, 40, 900]:
        row = fp.limits_at([n]).iloc[0]
        t0, s = np.arcsin(np.sqrt(0.3)), 1 / (2 * np.sqrt(n))
        for tag, z in [("95", 1.959964), ("998", 3.090232)]:
            lo = np.sin(t0 - z * s) ** 2 if t0 - z * s > 0 else 0.0
            hi = np.sin(t0 + z * s) ** 2 if t0 + z * s < np.pi / 2 else 1.0
            assert abs(row[f"lower{tag}"] - lo) < 1e-6 and abs(row[f"upper{tag}"] - hi) < 1e-6


# -- overdispersion: estimated every time, adjusted by default when it is more than chance ------------

def _simulate(rng, tau2: float, units: int = 400, p0: float = 0.2):
    n = rng.integers(100, 5000, units)
    t = np.arcsin(np.sqrt(p0)) + rng.normal(0, np.sqrt(tau2), units)  # random effects, arcsine scale
    return rng.binomial(n, np.sin(np.clip(t, 0, np.pi / 2)) ** 2).astype(float), n.astype(float)


def test_tau2_is_recovered_from_data_simulated_with_known_overdispersion():
    rng = np.random.default_rng(20)
    for tau2 in (0.002, 0.01):
        num, den = _simulate(rng, tau2)
        # without winsorising the DerSimonian-Laird estimate is unbiased
        raw = FunnelPlot("proportion", target=0.2, winsorise=0).fit(num, den)
        assert abs(raw.tau2_ - tau2) < 0.25 * tau2, (tau2, raw.tau2_)
        # winsorised at 10%/90% (the default, as SHMI and FunnelPlotR) it is about 40% low
        fp = FunnelPlot("proportion", target=0.2).fit(num, den)
        assert 0.4 * tau2 < fp.tau2_ < tau2, (tau2, fp.tau2_)
        assert fp.adjusted_ == "additive" and fp.phi_ > 2


def test_auto_adjusts_only_when_phi_is_more_than_chance_gives():
    rng = np.random.default_rng(21)
    adjusted = 0
    for _ in range(40):
        num, den = _simulate(rng, 0.0, units=150)
        fp = FunnelPlot("proportion", target=0.2).fit(num, den)
        adjusted += fp.adjusted_ != "none"
        # the test behind "auto": I phi against chi-square on I - 1 degrees of freedom
        assert abs(fp.od_p_value_ - stats.chi2.sf(150 * fp.phi_, 149)) < 1e-12
    assert adjusted <= 2
    num, den = _simulate(rng, 0.003, units=150)
    auto = FunnelPlot("proportion", target=0.2).fit(num, den)
    none = FunnelPlot("proportion", target=0.2, overdispersion="none").fit(num, den)
    assert auto.adjusted_ == "additive" and none.adjusted_ == "none"
    assert FunnelPlot("proportion", target=0.2, overdispersion=None).fit(num, den).adjusted_ == "additive"
    assert (none.phi_, none.tau2_) == (auto.phi_, auto.tau2_)  # estimated every time
    assert len(auto.outliers_) < len(none.outliers_)
    # adjusted limits are never narrower than the exact ones, and the flags agree with them
    grid = np.unique(den)
    a, e = auto.limits_at(grid), none.limits_at(grid)
    assert (a["upper998"] >= e["upper998"] - 1e-12).all() and (a["lower998"] <= e["lower998"] + 1e-12).all()
    t = auto.summary
    outside = (t["value"] > t["upper998"]) | (t["value"] < t["lower998"])
    assert (outside == t["flag"].str.contains("99.8")).all()


def test_method_sentence_table_attrs_and_plot_subtitle():
    rng = np.random.default_rng(22)
    num, den = _simulate(rng, 0.003, units=150)
    fp = FunnelPlot("proportion", target=0.2, target_name="England", unit_name="LAs").fit(num, den)
    m = fp.method_
    assert "95% and 99.8%" in m and "England share 20%" in m and f"phi = {fp.phi_:.2f}" in m
    assert f"tau^2 = {fp.tau2_:.3g}" in m and "additive random effects" in m and "150 LAs" in m
    assert fp.summary.attrs["phi"] == fp.phi_ and fp.summary.attrs["tau2"] == fp.tau2_
    assert fp.summary.attrs["adjusted"] == "additive" and fp.summary.attrs["method"] == m
    assert "additive" in fp.plot(title="t").layout.title.subtitle.text
    off = FunnelPlot("proportion", target=0.2, overdispersion="none").fit(num, den).method_
    assert "turned off" in off and "additive" not in off
    with pytest.raises(AnalysisError, match="unknown overdispersion"):
        FunnelPlot("proportion", overdispersion="both")
    with pytest.raises(AnalysisError, match="not fitted"):
        _ = FunnelPlot("proportion").method_


def test_discrete_limits_need_whole_counts():
    with pytest.raises(AnalysisError, match="'b'.*whole counts"):
        FunnelPlot("ratio").fit([3, 2.5], [4.1, 3.0], labels=["a", "b"])
    with pytest.raises(AnalysisError, match="whole counts"):
        FunnelPlot("proportion").fit([3, 2], [10, 7.5])
    fp = FunnelPlot("ratio", limits="continuous").fit([3, 2.5], [4.1, 3.0])
    assert fp.limits == "continuous" and len(fp.summary) == 2
