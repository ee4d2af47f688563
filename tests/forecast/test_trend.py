"""The arrivals' level is projected without its slope (cscflow.forecast.level, TREND_DAMPING): the evidence
in DfE's own tables, the projection itself, and what it does to the county's backtests."""

from __future__ import annotations

import numpy as np
import pytest

from cscflow import reference
from cscflow.forecast.level import TREND_DAMPING, ArrivalLevel, fit_level, level_paths, slope_steps


def _next_year_errors(measure: str, years: int = 3) -> dict[float, float]:
    """Mean absolute log error, over the LAs and years of a bundled DfE measure, of next year's count forecast
    as the last year's plus phi times the least-squares slope of the ``years`` years before."""
    x = reference.series(measure, level="la").pivot(index="code", columns="year", values="count")
    lx = np.log(x.where(x >= 30)).to_numpy()
    t = np.arange(years) - (years - 1)
    out = {}
    for phi in (0.0, 0.5, 1.0):
        errs = []
        for i in range(years, lx.shape[1]):
            hist, nxt = lx[:, i - years:i], lx[:, i]
            ok = np.isfinite(hist).all(1) & np.isfinite(nxt)
            b = (hist[ok] * (t - t.mean())).sum(1) / ((t - t.mean()) ** 2).sum()
            errs.append(np.abs(nxt[ok] - hist[ok, -1] - phi * b))
        out[phi] = float(np.concatenate(errs).mean())
    return out


@pytest.mark.parametrize("measure", ["referrals", "cin_started", "cp_plans_started"])
def test_an_las_recent_trend_does_not_persist(measure):
    """The default: across the LAs of DfE's CIN tables (2013-2025), carrying the last three years' slope
    into next year makes the forecast worse, the more of it the worse (referrals 0.143, 0.162, 0.194)."""
    e = _next_year_errors(measure)
    assert TREND_DAMPING == 0.0
    assert e[0.0] < e[0.5] < e[1.0], e
    assert e[1.0] > 1.15 * e[0.0], e


def test_the_level_is_projected_flat_and_the_slope_only_when_asked():
    rng = np.random.default_rng(0)
    months = np.arange(48)
    counts = rng.poisson(200.0 * np.exp(0.01 * months))  # 12.7% a year
    flat = fit_level(counts, np.zeros(48))
    line = fit_level(counts, np.zeros(48), damping=1.0)
    assert flat.as_dict()["trend_per_year"] == pytest.approx(0.127, abs=0.05)  # the slope is still read
    assert flat.as_dict()["trend_carried_into_next_12_months"] == 0.0
    steps = np.arange(1, 13)
    p0 = np.median(level_paths(flat, steps, 4000, np.random.default_rng(1)), axis=0)
    p1 = np.median(level_paths(line, steps, 4000, np.random.default_rng(1)), axis=0)
    level_now = flat.state[0] + flat.extra / 2.0
    assert np.abs(p0 - level_now).max() < 0.01  # flat: no month drifts from the level at the origin
    assert p1[-1] - p1[0] == pytest.approx(11 * line.state[1], abs=0.01)  # linear: the fitted slope a month


def test_the_method_says_whether_the_trend_is_carried():
    from cscflow.forecast.model import ForecastModel

    assert "the recent trend not carried forward" in ForecastModel().method_
    assert "the recent trend carried forward;" in ForecastModel(trend_damping=1.0).method_
    assert "damped by 0.9 a month" in ForecastModel(trend_damping=0.9).method_


def test_damped_slope_steps():
    assert slope_steps(0.0, np.array([1.0, 12.0])).tolist() == [0.0, 0.0]
    assert slope_steps(1.0, np.array([1.0, 12.0])).tolist() == [1.0, 12.0]
    s = slope_steps(0.5, np.array([1.0, 2.0, 60.0]))
    assert s[0] == pytest.approx(0.5) and s[1] == pytest.approx(0.75) and s[2] == pytest.approx(1.0)
    lvl = ArrivalLevel(state=np.array([5.0, 0.02]), cov=np.zeros((2, 2)), sigma2_level=0.0, sigma2_irregular=0.0,
                       extra=0.0, damping=0.5)
    assert level_paths(lvl, np.array([60.0]), 3, np.random.default_rng(0))[:, 0] == pytest.approx([5.02] * 3)


@pytest.mark.parametrize("measure", ["referrals", "assessments"])
def test_backtest_front_door_better_flat(county_and_ws, measure):
    """The 30,000-child county's entries rose 17% a year in the two years to 2016-03 and fell after it. With
    the fitted slope carried forward the referrals' and assessments' 12-month forecasts missed by 14.0 and 14.4 a
    month (naive 12.6 and 13.0); projected flat, by 13.0 and 12.8 (seeds 0-4: 12.8-13.5 against 13.3-14.4, and
    12.5-13.0 against 13.2-14.4, lower at every seed)."""
    from cscflow.forecast.backtesting import backtest, summarise

    def mae(**options) -> float:
        bt = backtest(county_and_ws[2], measure, horizon=12, n_boot=6, n_sims=100, seed=0, options=options)
        s = summarise(bt).set_index("method")
        assert 0.5 <= s.loc["cscflow", "coverage80"] <= 0.95, s
        return float(s.loc["cscflow", "mae"])

    flat, linear = mae(), mae(trend_damping=1.0)
    assert flat < 0.97 * linear, (flat, linear)
