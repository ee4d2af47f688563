"""Observed against simulated: where stays went next and how long they lasted.

Both sides see the same window: observed are the stays begun in the ``months`` before the origin
and ended by it; simulated are the stays begun in the ``months`` after the origin and ended within
them (the fitted model run forward). Equal censoring on both sides, so that the shares and median
days can be compared directly: a fitted model reproduces them up to chance and a change of trend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from cscflow.disclosure import Disclosed
    from cscflow.forecast.model import ForecastModel

COLUMNS = ["station", "next", "observed_share", "simulated_share", "observed_stays", "observed_median_days",
           "simulated_median_days"]


def diagnostics(model: ForecastModel, stays: pd.DataFrame, months: int = 12, n_sims: int = 20,
                seed: int = 0) -> pd.DataFrame:
    """One row per station and next step: observed and simulated shares and median days (``COLUMNS``).
    ``stays``: the stays the model was fitted on (:func:`cscflow.forecast.stays.load_stays` at its origin)."""
    from cscflow.forecast.simulate import simulate

    origin = model.origin_
    lo = origin - pd.DateOffset(months=months)
    o = stays[(stays["start"] > lo) & stays["end"].notna() & stays["station"].isin(model.stations_)]
    o = o.assign(days=(o["end"] - o["start"]) / pd.Timedelta(days=1))
    moves: list[np.ndarray] = []
    simulate(model, [model.stations_[0]], months, n_sims=n_sims, seed=seed, moves=moves)
    m = np.concatenate(moves) if moves else np.zeros((0, 3))
    sim = pd.DataFrame({"station": np.asarray(model.stations_)[m[:, 0].astype(int)],
                        "next": np.asarray(model.targets_)[m[:, 1].astype(int)], "days": m[:, 2]})
    rows = []
    for station, g in o.groupby("station"):
        gs = sim[sim["station"] == station]
        for nxt, h in g.groupby("next"):
            hs = gs[gs["next"] == nxt]
            rows.append({"station": station, "next": nxt, "observed_share": len(h) / len(g),
                         "simulated_share": len(hs) / len(gs) if len(gs) else np.nan, "observed_stays": len(h),
                         "observed_median_days": float(h["days"].median()),
                         "simulated_median_days": float(hs["days"].median()) if len(hs) else np.nan})
    return pd.DataFrame(rows, columns=COLUMNS)


def disclosed_diagnostics(model: ForecastModel, stays: pd.DataFrame, months: int = 12, n_sims: int = 20,
                          seed: int = 0) -> Disclosed:
    """:func:`diagnostics` as it may leave the machine (``forecast-diagnostics``: the observed stays of 1 to 4 shown as
    <5, their share and median days blanked), with its method and data window."""
    from cscflow.disclosure import disclose

    table = diagnostics(model, stays, months, n_sims, seed).round(
        {"observed_share": 4, "simulated_share": 4, "observed_median_days": 1, "simulated_median_days": 1})
    method = (f"observed: the stays begun in the {months} months before the origin and ended by it; simulated: the "
              f"stays begun in the {months} months after it and ended within them ({n_sims} simulations of the fitted "
              "model), so both sides are censored alike. The caseload's check is the backtest "
              "(cscflow forecast --backtest).")
    return disclose(table, "forecast-diagnostics", method=method,
                    window=f"fitted on the journeys from {model.obs_start_.date()} to {model.origin_.date()}")
