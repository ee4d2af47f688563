"""Statutory review dates of the synthetic county: CP review conferences and looked-after reviews.

One schedule per plan (a CP plan, or a period of care): the first review is due a fixed time after the
plan starts, each next one a fixed time after the last was *held* (Working Together 2023; Care Planning
Regulations 2010, reg 33). Each review is held up to ``early_days`` before it is due, or, with
probability ``late_share``, late by a lognormal number of days (``late_days``): the parameters'
``reviews`` section. Reviews stop when the plan ends (a review on or after the end day is not held).

The dates are drawn from a generator seeded by the County's seed (not a writer's ``rng``), so every
writer that shows them (the CIN census and Annex A list 7; the SSDA903 CSV, its XML and Annex A list
8) shows the same dates.

>>> import numpy as np, pandas as pd
>>> p = {"early_days": 0, "late_share": 0.0, "late_days": {"median": 10, "sigma": 0.5}}
>>> d = schedule(pd.Series(pd.to_datetime(["2017-01-10"])), pd.Series([pd.NaT]), pd.Timestamp("2018-01-01"),
...              [("months", 3), ("months", 6)], p, np.random.default_rng(0))
>>> [x.strftime("%Y-%m-%d") for x in d[0]]
['2017-04-10', '2017-10-10']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: default ``reviews`` parameters (a parameter file without the section gets these)
DEFAULTS: dict[str, Any] = {
    "cp_plan": {"first_months": 3, "then_months": 6},
    "looked_after": {"first_days": 28, "second_months": 3, "then_months": 6},
    "early_days": 7, "late_share": 0.08, "late_days": {"median": 12, "sigma": 0.8},
}


def parameters(county: Any) -> dict[str, Any]:
    """The ``reviews`` parameters of a County (the defaults for what it does not set)."""
    given = (getattr(county, "parameters", None) or {}).get("reviews") or {}
    return {**DEFAULTS, **given}


def _step(when: pd.Series, unit: str, amount: int) -> pd.Series:
    if unit == "months":
        out: pd.Series = when + pd.DateOffset(months=amount)
        return out
    return when + pd.Timedelta(days=amount)


def schedule(start: pd.Series, end: pd.Series, horizon: pd.Timestamp, steps: list[tuple[str, int]],
             p: dict[str, Any], rng: np.random.Generator) -> list[list[pd.Timestamp]]:
    """Review dates per plan (``start``/``end``; open plans run to ``horizon``): ``steps`` are the
    intervals to the first review, the second, ... (the last repeats)."""
    start = pd.to_datetime(start).reset_index(drop=True)
    stop = pd.to_datetime(end).reset_index(drop=True).fillna(horizon)
    out: list[list[pd.Timestamp]] = [[] for _ in range(len(start))]
    held = start.copy()
    alive = np.ones(len(start), dtype=bool)
    k = 0
    late = p["late_days"]
    while alive.any():
        unit, amount = steps[min(k, len(steps) - 1)]
        due = _step(held, unit, int(amount))
        n = len(due)
        is_late = rng.random(n) < float(p["late_share"])
        late_by = np.maximum(1, np.round(rng.lognormal(np.log(float(late["median"])), float(late["sigma"]), n)))
        early_by = rng.integers(0, int(p["early_days"]) + 1, size=n)
        shift = np.where(is_late, late_by, -early_by).astype("int64")
        when = due + pd.to_timedelta(shift, unit="D")
        when = when.where(when > held, held + pd.Timedelta(days=1))  # after the last one
        alive &= (when < stop).to_numpy()
        for i in np.flatnonzero(alive):
            out[i].append(when.iloc[i])
        held = when
        k += 1
    return out


_CACHE: dict[tuple[int, str], tuple[Any, Any, dict[Any, list[pd.Timestamp]]]] = {}


def cp_reviews(county: Any) -> dict[tuple[str, pd.Timestamp], list[pd.Timestamp]]:
    """Review conference dates of every CP plan of ``county``, by (child_id, plan start)."""
    hit = _CACHE.get((id(county), "cp_plan"))
    if hit is not None and hit[0] is county and hit[1] is county.journeys:
        return hit[2]
    from cscflow.synth.writers._common import stage_frame

    p = parameters(county)
    plans = stage_frame(county, "cp_plan")
    cp = p["cp_plan"]
    rng = np.random.default_rng([int(county.seed), 7, 1])
    horizon = pd.Timestamp(county.end) + pd.Timedelta(days=1)
    dates = schedule(plans["start"], plans["end"], horizon,
                     [("months", int(cp["first_months"])), ("months", int(cp["then_months"]))], p, rng)
    out = dict(zip(zip(plans["child_id"], pd.to_datetime(plans["start"]), strict=True), dates, strict=True))
    _CACHE[(id(county), "cp_plan")] = (county, county.journeys, out)
    return out


def cla_reviews(county: Any, periods: pd.DataFrame) -> list[list[pd.Timestamp]]:
    """Review dates of each period of care (``periods``: start, end; one row per period)."""
    p = parameters(county)
    la = p["looked_after"]
    rng = np.random.default_rng([int(county.seed), 7, 2])
    horizon = pd.Timestamp(county.end) + pd.Timedelta(days=1)
    return schedule(periods["start"], periods["end"], horizon,
                    [("days", int(la["first_days"])), ("months", int(la["second_months"])),
                     ("months", int(la["then_months"]))], p, rng)


__all__ = ["DEFAULTS", "cla_reviews", "cp_reviews", "parameters", "schedule"]
