"""Backtests on eight draws of the 30,000-child county without its two dated events (the synthetic Ofsted inspection
of November 2016 and the UASC surge of July 2015 to March 2016, which ends four days before the first origin):
what the model can know before an origin. Checked per measure over the draws: cscflow's mean absolute error at most
the naive and seasonal-naive forecasts' (at or below naive in at least 6 of 8 draws) and its 80% intervals covering
70-90% of the months (pooled). The draws with the events are in test_forecast.py."""

from __future__ import annotations

import pandas as pd
import pytest

from cscflow.forecast.backtesting import backtest, summarise

SEEDS = range(1, 9)


@pytest.fixture(scope="module")
def draws(tmp_path_factory, county_writer, county_parameters):
    from cscflow.synth import simulate

    out = []
    for seed in SEEDS:
        params = county_parameters()
        params["events"] = []
        out.append(county_writer(tmp_path_factory.mktemp(f"no_events_{seed}"), simulate(params, seed=seed)))
    yield out
    for ws in out:
        ws.close()


@pytest.mark.parametrize("measure", ["looked_after", "cp_plan"])
def test_backtest_beats_the_naive_forecasts_and_covers(draws, measure):
    rows = []
    for ws in draws:
        bt = backtest(ws, measure, horizon=12, n_boot=6, n_sims=100, seed=0)
        s = summarise(bt).set_index("method")
        cs = bt[bt["method"] == "cscflow"]
        inside = ((cs["actual"] >= cs["lower80"]) & (cs["actual"] <= cs["upper80"])).sum()
        rows.append({"cscflow": s.loc["cscflow", "mae"], "naive": s.loc["naive", "mae"],
                     "seasonal_naive": s.loc["seasonal_naive", "mae"], "inside": inside, "months": len(cs)})
    t = pd.DataFrame(rows)
    assert t["cscflow"].mean() <= t["naive"].mean(), t
    assert t["cscflow"].mean() <= t["seasonal_naive"].mean(), t
    assert (t["cscflow"] <= t["naive"]).sum() >= 6, t
    assert 0.7 <= t["inside"].sum() / t["months"].sum() <= 0.9, t
