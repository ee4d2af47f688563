"""A fitted model explored interactively (the web app's Forecast page): fitted once, simulated once per scenario.

:func:`prepare` fits the model on a workspace and keeps the observed monthly counts of every measure
for the months before the origin; :func:`simulate_all` simulates a scenario once for every measure and
cost item (so that changing the measure, or adding costs, simulates nothing again); :func:`measure_table`
and :func:`cscflow.forecast.costs.spend_by_simulation` read it.

>>> label(WhatIf(share={("cp_plan", "looked_after"): 0.9}, arrivals=1.05))
'cp_plan->looked_after -10%; arrivals +5%'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.forecast.costs import ITEMS
from cscflow.forecast.measures import MEASURES, actuals, quantile_table
from cscflow.forecast.simulate import WhatIf, simulate

if TYPE_CHECKING:
    from cscflow.forecast.model import ForecastModel
    from cscflow.journeys import ProcessMap
    from cscflow.workspace.protocol import WorkspaceLike

#: measure -> what the page calls it
LABELS: dict[str, str] = {
    "referrals": "referrals a month", "assessments": "assessments begun a month",
    "cp_plan": "children on a child protection plan at month end",
    "looked_after": "children looked after at month end", "care_leaver": "care leavers at month end",
    "cp_plan_starts": "child protection plans begun a month", "looked_after_starts": "periods of care begun a month",
}


@dataclass
class Prepared:
    """A fitted model (None when the data cannot be fitted: ``error`` says why), the observed ``history``
    (month, measure, actual) of the ``history_months`` before the origin and the care-day placement ``mix``."""

    model: ForecastModel | None
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    mix: dict[str, float] | None = None
    error: str | None = None
    seconds: float = 0.0
    #: (station, next step) -> stays begun in the observation window that took it (offered as a what-if from 5)
    moves: dict[tuple[str, str], int] = field(default_factory=dict)


def prepare(ws: WorkspaceLike, pmap: ProcessMap | str = "england", n_boot: int = 10, seed: int = 0,
            history_months: int = 24) -> Prepared:
    """Fit the model on ``ws`` up to the data's last month end; an :class:`AnalysisError` becomes ``error``."""
    import time

    from cscflow.forecast.costs import placement_mix
    from cscflow.forecast.model import ForecastModel, month_end_floor
    from cscflow.forecast.stays import load_stays, observation_start
    from cscflow.journeys import data_end

    t0 = time.perf_counter()
    try:
        origin = month_end_floor(data_end(ws))
        stays, stations, exits = load_stays(ws, pmap, origin)
        model = ForecastModel(n_boot=n_boot, seed=seed).fit_stays(stays, stations, exits, observation_start(ws))
    except AnalysisError as err:
        return Prepared(None, error=err.message + (f" ({err.hint})" if err.hint else ""))
    months = pd.period_range(model.origin_.to_period("M") - history_months + 1, periods=history_months, freq="M")
    months = months[months.start_time >= model.obs_start_]
    rows = [pd.DataFrame({"month": months.astype(str), "measure": name, "actual": actuals(stays, name, months).to_numpy()})
            for name, (station, _) in MEASURES.items() if station in model.stations_]
    history = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["month", "measure", "actual"])
    closed = stays[(stays["start"] >= model.obs_start_) & stays["next"].notna()]
    moves = {(str(a), str(b)): int(n) for (a, b), n in closed.groupby(["station", "next"]).size().items()}
    return Prepared(model, history, placement_mix(ws, model.origin_), seconds=time.perf_counter() - t0,
                    moves=moves)


def stations_needed(model: ForecastModel) -> list[str]:
    """The stations of every measure and cost item that the model's map has."""
    want = {s for s, _ in MEASURES.values()} | {s for s, _ in ITEMS.values()}
    return [s for s in model.stations_ if s in want]


def simulate_all(model: ForecastModel, horizon: int, n_sims: int, seed: int = 0,
                 what_if: WhatIf | None = None) -> dict[str, np.ndarray]:
    """One simulation of ``horizon`` months for every measure and cost item (see :func:`simulate`)."""
    return simulate(model, stations_needed(model), horizon, n_sims=n_sims, seed=seed, what_if=what_if)


def months_of(model: ForecastModel, horizon: int) -> pd.PeriodIndex:
    """The forecast months after the model's origin."""
    return pd.period_range(model.origin_.to_period("M") + 1, periods=horizon, freq="M")


def measure_table(model: ForecastModel, sims: dict[str, np.ndarray], measure: str) -> pd.DataFrame:
    """The forecast table (:data:`cscflow.forecast.FORECAST_COLUMNS`) of ``measure`` from :func:`simulate_all`."""
    station, count = MEASURES[measure]
    key = f"{station}:{count}"
    if key not in sims:
        raise AnalysisError(f"the map has no station {station!r} for measure {measure!r}",
                            hint="use a map that draws it (the england map does)")
    return quantile_table(sims[key], months_of(model, sims[key].shape[1]))


def junctions(model: ForecastModel, moves: dict[tuple[str, str], int] | None = None, min_share: float = 0.01,
              min_moves: int = 5) -> list[dict[str, Any]]:
    """Stations with at least two next steps of ``min_share`` or more: each with its targets and fitted shares.
    With ``moves`` (:attr:`Prepared.moves`), a next step taken by fewer than ``min_moves`` stays is left out (a
    share of a few stays is not shown, as disclosure control would hide its count)."""
    out = []
    for s in model.stations_:
        sh = model.shares(s)
        sh = sh[(sh["share"] >= min_share) & (sh["target"] != "other")]
        if moves is not None:
            sh = sh[[moves.get((s, str(t)), 0) >= min_moves for t in sh["target"]]]
        if len(sh) >= 2:
            out.append({"source": s, "targets": [{"target": str(t), "share": round(float(v), 4)}
                                                 for t, v in zip(sh["target"], sh["share"], strict=True)]})
    return out


def label(wi: WhatIf) -> str:
    """The what-if in the CLI's words (``SOURCE->TARGET -10%; arrivals +5%``)."""
    def pct(f: float) -> str:
        return f"{(f - 1) * 100:+.0f}%"

    parts = [f"{a}->{b} {pct(f)}" for (a, b), f in wi.share.items()]
    parts += [f"duration:{s} {pct(f)}" for s, f in wi.duration.items()]
    if wi.arrivals != 1.0:
        parts.append(f"arrivals {pct(wi.arrivals)}")
    if wi.uasc != 1.0:
        parts.append(f"uasc {pct(wi.uasc)}")
    return "; ".join(parts)


__all__ = ["LABELS", "Prepared", "junctions", "label", "measure_table", "months_of", "prepare", "simulate_all",
           "stations_needed"]
