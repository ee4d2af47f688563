"""The forecast model on a synthetic county of 30,000 children: recovery, actuals, backtest, what-if, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import cscflow.forecast as fc
from cscflow.forecast.backtesting import backtest, summarise
from cscflow.forecast.measures import actuals
from cscflow.forecast.simulate import WhatIf
from cscflow.forecast.stays import load_stays


@pytest.fixture(scope="module")
def fitted(county_and_ws):
    return fc.fit(county_and_ws[2], n_boot=12, seed=1)


def test_recovers_referral_shares(county_and_ws, fitted):
    """The synthetic inspection (November 2016, 240 days) sent 1.6 times as many referrals to a strategy
    discussion: the window's pooled shares (drift off) hold the parameters; the local level at the origin
    still carries some of the inspection (its discount 0.75 a half-year): its half-years hold about a quarter of
    the level's weight, so the level reads about 0.22 + 0.25 * 0.09 = 0.245 to a strategy discussion (0.255 read,
    bootstrap 0.244-0.269), within 0.04 of the parameter. (Before UASC were a group, their referrals, every one to
    an assessment, sat in the older cells and lowered that reading to 0.249.)"""
    from cscflow.forecast.model import ForecastModel

    params = county_and_ws[0]
    pooled = ForecastModel(n_boot=12, seed=1, drift=False).fit(county_and_ws[2]).shares("referral").set_index("target")
    level = fitted.shares("referral").set_index("target")
    for target in ("assessment", "strategy_discussion"):
        truth = params["referral"]["outcomes"][target] / sum(params["referral"]["outcomes"].values())
        assert pooled.loc[target, "lower95"] - 0.01 <= truth <= pooled.loc[target, "upper95"] + 0.01, (target, pooled)
        assert abs(level.loc[target, "share"] - truth) < 0.04, (target, level)


def test_recovers_cp_plan_to_care_share(county_and_ws, fitted):
    out = county_and_ws[0]["cp_plan"]["outcomes"]
    truth = out["looked_after"] / sum(out.values())
    sh = fitted.shares("cp_plan").set_index("target")
    assert sh.loc["looked_after", "lower95"] - 0.01 <= truth <= sh.loc["looked_after", "upper95"] + 0.01, sh


def test_recovers_assessment_median_days(county_and_ws, fitted):
    truth = county_and_ws[0]["assessment"]["days"]["median"]
    k = fitted.stations_.index("assessment")
    n_d = fitted.dur_q_.shape[1] // len(fitted.stations_)  # (group, age band) rows a station
    medians = fitted.dur_q_[:, k * n_d:k * n_d + 4, 100]  # every replicate and age band, children not UASC
    # stays are whole days: the interval is widened by one day
    assert medians.min() - 1 <= truth <= medians.max() + 1, medians


def test_arrivals_match_the_observed_level(fitted):
    months = pd.period_range(fitted.origin_.to_period("M") - 11, periods=12, freq="M")
    expected = fitted.arrivals_expected(months)  # in-sample: the last observed year
    observed = fitted.arrival_counts_[-12:].sum()
    lo, hi = np.percentile(expected.sum(1), [2.5, 97.5])
    assert lo * 0.97 <= observed <= hi * 1.03, (lo, observed, hi)


def test_actuals_equal_an_independent_count(county_and_ws):
    _, county, ws = county_and_ws
    stays, _, _ = load_stays(ws)
    months = pd.period_range("2015-04", periods=36, freq="M")
    got = actuals(stays, "looked_after", months).to_numpy()
    j = county.journeys[county.journeys["stage"] == "looked_after"]
    ends = [m.end_time.normalize() for m in months]
    want = [int(((j["start"] <= e) & (j["end"].isna() | (j["end"] > e))).sum()) for e in ends]
    assert got.tolist() == want


def test_an_origin_after_the_data_is_refused(county_and_ws):
    """Nothing is known of the months between the data's end (2018-03) and a later origin: the fit said "fitted on
    the journeys from 2011 to 2029-12-31" and simulated the children open then (none but a few long stays)."""
    from cscflow.errors import AnalysisError
    from cscflow.forecast.model import ForecastModel

    with pytest.raises(AnalysisError, match="2030-01-01 .month end 2029-12-31. is after the data's last month end "
                                            "2018-03-31"):
        ForecastModel(origin="2030-01-01", n_boot=1).fit(county_and_ws[2])


def test_forecast_table_and_intervals(fitted):
    f = fc.forecast(fitted, "looked_after", horizon=6, n_sims=60, seed=2)
    assert list(f.columns) == fc.FORECAST_COLUMNS
    assert f["month"].tolist()[0] == "2018-04" and len(f) == 6
    v = f[["lower95", "lower80", "forecast", "upper80", "upper95"]].to_numpy()
    assert (np.diff(v, axis=1) >= 0).all()
    assert (f["upper95"] - f["lower95"]).iloc[-1] > (f["upper95"] - f["lower95"]).iloc[0]


def test_what_if_halving_cp_plan_to_care_lowers_looked_after(fitted):
    base = fc.forecast(fitted, "looked_after", horizon=12, n_sims=80, seed=3)
    half = fc.forecast(fitted, "looked_after", horizon=12, n_sims=80, seed=3,
                       what_if=WhatIf(share={("cp_plan", "looked_after"): 0.5}))
    more = fc.forecast(fitted, "referrals", horizon=6, n_sims=80, seed=3, what_if=WhatIf(arrivals=1.2))
    less = fc.forecast(fitted, "referrals", horizon=6, n_sims=80, seed=3, what_if=WhatIf(arrivals=0.8))
    assert half["forecast"].iloc[-1] < base["forecast"].iloc[-1]
    assert (more["forecast"] > less["forecast"]).all()


@pytest.fixture(scope="module")
def looked_after_backtest(county_and_ws):
    bt = backtest(county_and_ws[2], "looked_after", horizon=12, n_boot=6, n_sims=100, seed=0)
    return summarise(bt).set_index("method")


def test_backtest_looked_after_beats_ets(looked_after_backtest):
    """On this draw, with its UASC surge ending at the first origin (below); the intervals' coverage is checked over
    eight draws without the synthetic events (test_backtest_without_events.py): on this one it is 0.64, the
    surge's origin missed."""
    s = looked_after_backtest
    assert set(s.index) == {"cscflow", "naive", "seasonal_naive", "ets"}
    assert s.loc["cscflow", "mae"] <= s.loc["ets", "mae"], s


@pytest.mark.xfail(strict=True, reason="the first origin, 2016-03-31, falls 4 days after the county's UASC surge "
                   "ended (x4 for 270 days from July 2015): their level at the origin is 47 a year against 10 begun "
                   "in the next 12 months, and nothing before the origin says the surge ends; from it the caseload "
                   "is forecast 24 too high (MAE 23.9 against naive 4.9). At the two later origins cscflow is below "
                   "naive (3.1 against 4.0, 6.5 against 9.2); at the later origins of eight other draws (seeds 1-8) "
                   "88.6 against 92.7 summed. Without the synthetic events cscflow beats naive "
                   "(test_backtest_without_events.py; docs/methods.md, Forecasts, Measured)")
def test_backtest_looked_after_beats_naive(looked_after_backtest):
    s = looked_after_backtest
    assert s.loc["cscflow", "mae"] <= s.loc["naive", "mae"], s
    assert s.loc["cscflow", "mae"] <= s.loc["seasonal_naive", "mae"], s


def test_backtest_care_leavers_beat_the_baselines(county_and_ws):
    """Care leavers come from the children in care turning 18 (cscflow.forecast.ages)."""
    s = summarise(backtest(county_and_ws[2], "care_leaver", horizon=12, n_boot=6, n_sims=100, seed=0)).set_index("method")
    for base in ("naive", "seasonal_naive", "ets"):
        assert s.loc["cscflow", "mae"] <= s.loc[base, "mae"], s
    assert s.loc["cscflow", "coverage80"] >= 0.7, s


def test_cli_fit_only_and_forecast(county_and_ws, county_writer, tmp_path):
    from click.testing import CliRunner

    from cscflow.cli import cli

    ws = county_writer(tmp_path / "ws", county_and_ws[1])  # its own workspace, closed: the CLI opens it read-only
    root = str(ws.path)
    ws.close()
    r = CliRunner().invoke(cli, ["forecast", root, "--fit-only", "--bootstrap", "3", "--out", str(tmp_path / "m.yaml")])
    assert r.exit_code == 0, r.output
    text = (tmp_path / "m.yaml").read_text()
    fit = yaml.safe_load(text)
    assert fit["origin"] == "2018-03-31" and "assessment" in fit["stations"]["referral"]["outcomes"]
    # the fit's diagnostics: each route's observed stays (begun in the year before the origin, ended by it), counted
    # here from the stays the model is fitted on; counts of 1 to 4 shown as <5, their share and days blank
    assert text.startswith("# cscflow fitted model: semi-Markov") and "# diagnostics: Disclosure control" in text
    diag = pd.DataFrame(fit["diagnostics"]).set_index(["station", "next"])
    stays, _, _ = load_stays(county_and_ws[2])
    lo = pd.Timestamp("2018-03-31") - pd.DateOffset(months=12)
    s47 = stays[(stays["station"] == "s47") & (stays["start"] > lo) & stays["end"].notna()]
    counts = s47["next"].value_counts()
    assert counts.sum() > 200
    for nxt, n in counts.items():
        assert diag.loc[("s47", nxt), "observed_stays"] == (n if n >= 5 else "<5"), (nxt, n)
    small = diag[diag["observed_stays"] == "<5"]
    assert len(small) and small["observed_share"].isna().all() and small["observed_median_days"].isna().all()
    assert set(diag.columns) >= {"simulated_share", "simulated_median_days"}
    r = CliRunner().invoke(cli, ["forecast", root, "--measure", "referrals", "--horizon", "3", "--simulations", "30",
                                 "--bootstrap", "3", "--what-if", "arrivals=+10%", "--out", str(tmp_path / "f.csv")])
    assert r.exit_code == 0, r.output
    f = pd.read_csv(tmp_path / "f.csv", comment="#")
    assert len(f) == 6 and set(f["scenario"]) == {"baseline", "what-if: arrivals=+10%"}
    head = (tmp_path / "f.csv").read_text().splitlines()[:5]  # every figure says its method, data and disclosure
    assert head[0].startswith("# cscflow forecast") and any(x.startswith("# Method: semi-Markov") for x in head)
    assert any(x.startswith("# Data: fitted on the journeys from") for x in head)
    r = CliRunner().invoke(cli, ["forecast", root, "--measure", "referrals", "--horizon", "2", "--simulations", "20",
                                 "--bootstrap", "2"])
    assert r.exit_code == 0 and "Method: semi-Markov" in r.output and "Disclosure control" in r.output, r.output
    values = pd.to_numeric(f[["forecast", "lower80", "upper80", "lower95", "upper95"]].stack(), errors="coerce")
    assert not values.between(0.5, 4.5).any()  # small modelled values are hidden like counts
    r = CliRunner().invoke(cli, ["forecast", root, "--what-if", "nonsense"])
    assert r.exit_code == 1 and "what-if" in r.output


def test_cli_backtest_suppresses_small_actuals(county_and_ws, county_writer, tmp_path):
    from click.testing import CliRunner

    from cscflow.cli import cli

    ws = county_writer(tmp_path / "ws", county_and_ws[1])
    root = str(ws.path)
    ws.close()
    out = tmp_path / "bt.csv"
    r = CliRunner().invoke(cli, ["forecast", root, "--measure", "care_leaver", "--horizon", "3", "--backtest",
                                 "--simulations", "30", "--bootstrap", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    bt = pd.read_csv(out, dtype={"actual": str}, comment="#")
    assert "# Method: Backtest of care_leaver" in out.read_text()
    assert set(bt["method"]) == {"cscflow", "naive", "seasonal_naive", "ets"}
    shown = pd.to_numeric(bt["actual"], errors="coerce")
    assert not shown.between(1, 4).any()


def test_diagnostics_simulated_conversion_near_observed(county_and_ws, fitted):
    from cscflow.forecast.diagnostics import diagnostics

    stays, _, _ = load_stays(county_and_ws[2])
    d = diagnostics(fitted, stays, months=12, n_sims=10).set_index(["station", "next"])
    big = d[d["observed_stays"] >= 300]
    assert len(big) >= 5
    # same censoring on both sides: large transitions agree within 6 points (measured: at most 4.6, referral ->
    # strategy discussion, 0.263 in the last year against 0.22 over the window, the synth's own share)
    gap = (big["observed_share"] - big["simulated_share"]).abs()
    assert (gap < 0.06).all() and gap.median() < 0.02, big
