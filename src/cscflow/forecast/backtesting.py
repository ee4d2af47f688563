"""Backtests: refit at past origins, forecast the next months, compare with the actuals and baselines.

Baselines, each from the measure's monthly series from the observation start to the origin:

- ``naive``: the last month's value; 80% interval ± 1.2816 σ √h, σ the sd of month-to-month changes;
- ``seasonal_naive``: the value of the same month a year before; σ the sd of 12-month changes, × √⌈h/12⌉;
- ``ets``: additive damped-trend exponential smoothing (statsmodels ``ExponentialSmoothing``), its
  interval from 500 simulated paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cscflow.forecast.measures import actuals, forecast_table, measure
from cscflow.forecast.model import ForecastModel, month_end_floor
from cscflow.forecast.stays import load_stays, observation_start

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

BACKTEST_COLUMNS = ["origin", "month", "actual", "forecast", "lower80", "upper80", "method"]
Z80 = 1.2815515655446004


def baselines(history: pd.Series, horizon: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Forecast, lower80 and upper80 of the three baselines for ``horizon`` months after ``history``."""
    y = history.to_numpy(dtype=float)
    h = np.arange(1, horizon + 1)
    out = {}
    sd1 = float(np.std(np.diff(y), ddof=1)) if len(y) > 2 else 0.0
    f = np.full(horizon, y[-1])
    out["naive"] = pd.DataFrame({"forecast": f, "lower80": f - Z80 * sd1 * np.sqrt(h),
                                 "upper80": f + Z80 * sd1 * np.sqrt(h)})
    if len(y) >= 13:
        sd12 = float(np.std(y[12:] - y[:-12], ddof=1)) if len(y) > 13 else sd1
        f = y[len(y) - 12 + (h - 1) % 12]
        k = np.ceil(h / 12)
        out["seasonal_naive"] = pd.DataFrame({"forecast": f, "lower80": f - Z80 * sd12 * np.sqrt(k),
                                              "upper80": f + Z80 * sd12 * np.sqrt(k)})
    out["ets"] = _ets(y, horizon, seed)
    return out


def _ets(y: np.ndarray, horizon: int, seed: int) -> pd.DataFrame:
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ExponentialSmoothing(y, trend="add", damped_trend=True, initialization_method="estimated").fit()
        paths = np.asarray(res.simulate(horizon, repetitions=500, error="add",
                                        random_state=np.random.default_rng(seed)))
    return pd.DataFrame({"forecast": np.asarray(res.forecast(horizon)),
                         "lower80": np.percentile(paths, 10, axis=1), "upper80": np.percentile(paths, 90, axis=1)})


def backtest(ws: WorkspaceLike, measure_name: str, horizon: int = 12, origins: list[Any] | None = None,
             n_origins: int = 3, step: int = 6, n_boot: int = 10, n_sims: int = 200, pmap: str = "england",
             seed: int = 0, options: dict[str, Any] | None = None) -> pd.DataFrame:
    """Rows of :data:`BACKTEST_COLUMNS` for cscflow and the baselines at each origin (default: ``n_origins``
    month ends ``step`` months apart, the latest ``horizon`` months before the data's last month end);
    ``options``: further :class:`~cscflow.forecast.model.ForecastModel` settings (``trend_damping=1.0``)."""
    from cscflow.journeys import data_end

    measure(measure_name)
    last = month_end_floor(data_end(ws))
    if origins is None:
        origins = [month_end_floor(last - pd.DateOffset(months=horizon + step * i)) for i in range(n_origins)][::-1]
    full, stations, exits = load_stays(ws, pmap, last)
    obs = observation_start(ws)
    first = obs.to_period("M") if obs.day == 1 else obs.to_period("M") + 1
    rows = []
    for origin in origins:
        origin = month_end_floor(origin)
        months = pd.period_range(origin.to_period("M") + 1, periods=horizon, freq="M")
        act = actuals(full, measure_name, months).to_numpy()
        model = ForecastModel(pmap=pmap, origin=origin, n_boot=n_boot, seed=seed, **(options or {}))
        model.fit_stays(_cut_at(full, origin), stations, exits, obs)
        fc = forecast_table(model, measure_name, horizon, n_sims=n_sims, seed=seed)
        frames = {"cscflow": fc}
        hist = actuals(full, measure_name, pd.period_range(first, origin.to_period("M"), freq="M"))
        frames.update(baselines(hist, horizon, seed))
        for method, f in frames.items():
            rows.append(pd.DataFrame({"origin": str(origin.date()), "month": months.astype(str), "actual": act,
                                      "forecast": f["forecast"].to_numpy(), "lower80": f["lower80"].to_numpy(),
                                      "upper80": f["upper80"].to_numpy(), "method": method}))
    return pd.concat(rows, ignore_index=True)[BACKTEST_COLUMNS]


def _cut_at(full: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """The uncut stays as they were known at ``origin`` (begun by then; open if they ended after it)."""
    s = full[full["start"] <= origin].copy()
    late = s["end"].isna() | (s["end"] > origin)
    s.loc[late, "end"] = pd.NaT
    s.loc[late, "next"] = None
    s.attrs["origin"] = origin
    return s


def summarise(bt: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute error and 80% interval coverage by method."""
    d = bt.assign(err=(bt["forecast"] - bt["actual"]).abs(),
                  inside=(bt["actual"] >= bt["lower80"]) & (bt["actual"] <= bt["upper80"]))
    return d.groupby("method", sort=False).agg(mae=("err", "mean"), coverage80=("inside", "mean"),
                                               months=("err", "size")).reset_index()
