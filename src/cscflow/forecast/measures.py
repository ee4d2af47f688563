"""Forecast measures, their actual monthly counts, and the forecast table of a fitted model.

A measure is a station and a count: ``starts`` (new stays a month: a child's consecutive rows at
the station are one stay, so a period of care counts once however many placements it holds) or
``open`` (stays open at the month's end: the caseload).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cscflow.errors import AnalysisError

if TYPE_CHECKING:
    from cscflow.forecast.model import ForecastModel
    from cscflow.forecast.simulate import WhatIf

#: measure -> (station, count)
MEASURES: dict[str, tuple[str, str]] = {
    "referrals": ("referral", "starts"),
    "assessments": ("assessment", "starts"),
    "cp_plan": ("cp_plan", "open"),
    "looked_after": ("looked_after", "open"),
    "care_leaver": ("care_leaver", "open"),
    "cp_plan_starts": ("cp_plan", "starts"),
    "looked_after_starts": ("looked_after", "starts"),
}
FORECAST_COLUMNS = ["month", "forecast", "lower80", "upper80", "lower95", "upper95"]


def measure(name: str) -> tuple[str, str]:
    """The station and count of measure ``name``."""
    if name not in MEASURES:
        raise AnalysisError(f"no forecast measure {name!r}", hint=f"use one of {', '.join(MEASURES)}")
    return MEASURES[name]


def actuals(stays: pd.DataFrame, name: str, months: pd.PeriodIndex) -> pd.Series:
    """The observed monthly counts of measure ``name`` from uncut stays (:func:`cscflow.forecast.stays.cut`)."""
    station, count = measure(name)
    s = stays[stays["station"] == station]
    if count == "starts":
        c = s["start"].dt.to_period("M").value_counts()
        return pd.Series([int(c.get(m, 0)) for m in months], index=months, name=name)
    vals = []
    for m in months:
        e = m.end_time.normalize()
        vals.append(int(((s["start"] <= e) & (s["end"].isna() | (s["end"] > e))).sum()))
    return pd.Series(vals, index=months, name=name)


def forecast_table(model: ForecastModel, name: str, horizon: int = 12, n_sims: int = 200, seed: int = 0,
                   what_if: WhatIf | None = None) -> pd.DataFrame:
    """The median and 80% / 95% intervals of measure ``name`` for ``horizon`` months after the origin."""
    from cscflow.forecast.simulate import simulate

    station, count = measure(name)
    if station not in model.stations_:
        raise AnalysisError(f"the map has no station {station!r} for measure {name!r}",
                            hint="use a map that draws it (the england map does)")
    sims = simulate(model, [station], horizon, n_sims=n_sims, seed=seed, what_if=what_if)[f"{station}:{count}"]
    months = pd.period_range(model.origin_.to_period("M") + 1, periods=horizon, freq="M")
    return quantile_table(sims, months)


def quantile_table(sims: np.ndarray, months: pd.PeriodIndex) -> pd.DataFrame:
    """:data:`FORECAST_COLUMNS` of simulated monthly values ``sims`` (simulations x months): the median and
    the 80% and 95% intervals over the simulations."""
    pct = np.percentile(sims, [50, 10, 90, 2.5, 97.5], axis=0)
    return pd.DataFrame({"month": months.astype(str), "forecast": pct[0], "lower80": pct[1], "upper80": pct[2],
                         "lower95": pct[3], "upper95": pct[4]})
