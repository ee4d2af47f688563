"""Forecast: fit + 12-month forecast with 200 simulations on the synthetic county (target < 60 s), beside ETS.

The county preset (330,000 children aged 0-17) is simulated and its journeys written straight into a
workspace (episodes and children). Timed: the fit (timelines, 20 bootstrap replicates over children),
then 200 simulations of 12 months of the looked-after caseload. The baseline is statsmodels'
damped-trend ExponentialSmoothing fitted to the same monthly caseload series and forecast 12 months.
Run: ``python -m bench forecast`` (``--quick``: the tiny preset scaled to 30,000 children).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def _workspace(root: Path, quick: bool):
    from cscflow.synth import simulate
    from cscflow.synth.from_workspace import county_workspace
    from cscflow.synth.params import load_parameters

    p = load_parameters("tiny" if quick else "county")
    if quick:
        p["population"]["children_0_17"] = 30000
        p["burn_in_years"] = 8
    county = simulate(p, seed=5)
    return county_workspace(county, root), len(county.journeys)


def main(quick: bool = False) -> None:
    import cscflow.forecast as fc
    from cscflow.forecast.backtesting import _ets
    from cscflow.forecast.measures import actuals
    from cscflow.forecast.stays import load_stays, observation_start

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ws, n = _workspace(Path(tmp), quick)
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        model = fc.fit(ws, n_boot=20)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        f = fc.forecast(model, "looked_after", horizon=12, n_sims=200)
        t_sim = time.perf_counter() - t0
        stays, _, _ = load_stays(ws)
        months = pd.period_range(observation_start(ws).to_period("M") + 1, model.origin_.to_period("M"), freq="M")
        series = actuals(stays, "looked_after", months)
        t0 = time.perf_counter()
        ets = _ets(series.to_numpy(dtype=float), 12, 0)
        t_ets = time.perf_counter() - t0
        print(f"{n:,} stays, {model.n_children_:,} children (workspace built in {t_build:.1f} s)")
        print(f"cscflow fit {t_fit:.1f} s + forecast (200 simulations x 12 months) {t_sim:.1f} s = "
              f"{t_fit + t_sim:.1f} s (target < 60 s); ETS on the monthly series {t_ets:.2f} s")
        print(f.assign(ets=ets["forecast"].to_numpy()).to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
        ws.close()


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
