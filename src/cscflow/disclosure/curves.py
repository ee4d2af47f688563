"""Step curves on coarsened data: a Kaplan-Meier or cumulative-incidence curve that steps only where
at least ``min_events`` events have accrued since the last step shown.

Between two shown steps a reader sees neither the times nor the numbers of single events, so
``at_risk * (1 - S / S_prev)`` (or a CIF step times the number at risk) gives back an aggregate of at
least ``min_events`` events, never a count of 1-4. The curve starts at 1 (or 0 for a cumulative
incidence) and ends at its last shown step: a tail with fewer than ``min_events`` events is not drawn.
The estimates at the shown times are the full data's.

>>> import pandas as pd
>>> t = pd.DataFrame({"time": [0, 1, 2, 3, 4], "survival": [1, .9, .8, .6, .5], "lower": 0.0, "upper": 1.0,
...                   "at_risk": [20, 20, 18, 16, 8], "events": [0, 2, 2, 4, 1]})
>>> coarsen_km(t)[["time", "survival", "at_risk", "events"]].values.tolist()
[[0.0, 1.0, 20.0, 0.0], [3.0, 0.6, 16.0, 8.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _steps(events: np.ndarray, min_events: int) -> tuple[list[int], list[float]]:
    keep, acc_out, acc = [], [], 0.0
    for i, d in enumerate(events):
        acc += 0.0 if not np.isfinite(d) else d
        if acc >= min_events:
            keep.append(i)
            acc_out.append(acc)
            acc = 0.0
    return keep, acc_out


def coarsen_km(table: pd.DataFrame, min_events: int = 5, group: str = "group") -> pd.DataFrame:
    """A Kaplan-Meier curve table (time, survival, lower, upper, at_risk, events[, group]) stepped
    only where ``min_events`` events have accrued; ``events`` becomes the events since the last step."""
    parts = []
    groups = table.groupby(group, sort=False) if group in table.columns else [(None, table)]
    for label, g in groups:
        g = g.sort_values("time").reset_index(drop=True)
        if g.empty:
            continue
        start = {"time": min(0.0, float(g["time"].iloc[0])), "survival": 1.0, "lower": 1.0, "upper": 1.0,
                 "at_risk": float(g["at_risk"].iloc[0]), "events": 0.0}
        keep, acc = _steps(g["events"].to_numpy(dtype=float), min_events)
        rows = g.loc[keep, ["time", "survival", "lower", "upper", "at_risk"]].astype(float).assign(events=acc)
        out = pd.concat([pd.DataFrame([start]), rows], ignore_index=True)
        if label is not None:
            out[group] = label
        parts.append(out)
    cols = ["time", "survival", "lower", "upper", "at_risk", "events"] + ([group] if group in table.columns else [])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)


def coarsen_cif(table: pd.DataFrame, min_events: int = 5) -> pd.DataFrame:
    """A long cumulative-incidence table (time, route, cumulative_incidence, lower, upper, at_risk,
    events = leavers by that route at that time) stepped, route by route, only where ``min_events``
    of that route's events have accrued."""
    parts = []
    for route, g in table.groupby("route", sort=False):
        g = g.sort_values("time").reset_index(drop=True)
        start = {"time": min(0.0, float(g["time"].iloc[0])), "route": route, "cumulative_incidence": 0.0,
                 "lower": 0.0, "upper": 0.0, "at_risk": float(g["at_risk"].iloc[0]), "events": 0.0}
        keep, acc = _steps(g["events"].to_numpy(dtype=float), min_events)
        rows = g.loc[keep, ["time", "route", "cumulative_incidence", "lower", "upper", "at_risk"]].assign(events=acc)
        parts.append(pd.concat([pd.DataFrame([start]), rows], ignore_index=True))
    out = pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]
    return out.sort_values(["time", "route"], kind="stable").reset_index(drop=True)


__all__ = ["coarsen_cif", "coarsen_km"]
