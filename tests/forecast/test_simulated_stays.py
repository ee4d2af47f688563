"""One run child by child (the map's simulated dots): its journeys hold together, it starts from the children open
at the origin, and over many runs it agrees with the forecast's own simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cscflow.forecast import fit, forecast
from cscflow.forecast.simulated_stays import COLUMNS, horizon_days, simulate_stays


@pytest.fixture(scope="module")
def model(county_and_ws):
    _, _, ws = county_and_ws
    return fit(ws, n_boot=5)


def test_a_run_is_a_chain_of_stays_from_the_open_children(model):
    s = simulate_stays(model, 12, seed=3)
    assert list(s.columns) == COLUMNS
    n_open = s.attrs["n_open"]
    assert n_open == len(model.open_) > 0
    # the first n_open children are the open stays, station for station
    first = s.groupby("child").head(1)
    opened = first[first["child"] < n_open]
    assert (opened["start"] <= 0).all() and (first[first["child"] >= n_open]["start"] > 0).all()
    want = pd.Series(np.asarray(model.stations_)[model.open_["station"]]).value_counts().sort_index()
    assert opened["station"].value_counts().sort_index().equals(want.rename("count"))
    # each stay ends where the next begins, at the station it named; only a child's last stay is open or leaves
    same = s["child"].to_numpy()[1:] == s["child"].to_numpy()[:-1]
    assert np.allclose(s["start"].to_numpy()[1:][same], s["end"].to_numpy()[:-1][same])
    assert (s["next"].to_numpy()[:-1][same] == s["station"].to_numpy()[1:][same]).all()
    last = np.r_[~same, True]
    assert s["next"][~last].isin(model.stations_).all()
    assert s["next"][last].isna().sum() > 0 and s["next"][last].dropna().isin(model.exits_ + ["other"]).all()
    h = horizon_days(model, 12)
    assert (s["end"] <= h).all() and (s.loc[s["next"].isna(), "end"] == h).all()
    assert (s["end"] >= s["start"]).all()


def test_many_runs_agree_with_the_forecasts_simulation(model):
    """The looked-after caseload at each month end, over 40 runs child by child, beside the forecast's median
    and 80% interval from 200 simulations (the same model): the mean of the runs inside the interval and within 5%
    of the median, their spread within a factor of two of the interval's (as a normal's standard deviation)."""
    horizon = 6
    months = pd.period_range(model.origin_.to_period("M") + 1, periods=horizon, freq="M")
    ends = np.array([(m.end_time.normalize() + pd.Timedelta(days=1) - model.origin_).days - 1 for m in months], float)
    counts = []
    for seed in range(1, 41):
        s = simulate_stays(model, horizon, seed=seed)
        la = s[s["station"] == "looked_after"]
        counts.append([int(((la["start"] <= e) & ((la["end"] > e) | la["next"].isna())).sum()) for e in ends])
    mean = np.mean(counts, axis=0)
    f = forecast(model, "looked_after", horizon=horizon, n_sims=200)
    assert ((mean >= f["lower80"].to_numpy()) & (mean <= f["upper80"].to_numpy())).all(), (mean, f)
    assert np.allclose(mean, f["forecast"].to_numpy(), rtol=0.05), (mean, f["forecast"].to_numpy())
    # and the runs spread as the forecast's simulations do (the run draws its own level path, shares and hazards)
    sd, width = np.std(counts, axis=0), (f["upper80"] - f["lower80"]).to_numpy() / (2 * 1.2816)
    assert ((sd > width / 2) & (sd < width * 2)).all(), (sd, width)
