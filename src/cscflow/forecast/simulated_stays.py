"""One run of the fitted model, child by child: the simulated stays the map plays after the forecast origin.

:func:`cscflow.forecast.simulate.simulate` moves all stays of many simulations on at once and keeps
counts; it does not follow a child from one stay to the next. :func:`simulate_stays` runs the same
model the same way (:func:`cscflow.forecast.simulate.run`) for one simulation: one bootstrap replicate of the
parameters; the run's own shares, duration hazards and path of the arrivals' level, as the periods vary; the
children open at the origin with their remaining days conditional on the days already spent; Poisson arrivals of
groups of siblings about the level; then rounds of next stations and durations, siblings sharing their draws,
stays ended at 18 (21 for care leavers), care ended at 18 followed by a care leaver's stay with the fitted share.
It keeps each simulated child's stays in order: child, station, start, end, next.

Simulated children are numbered from 0: the first ``n_open`` are the children open at the origin, in
the order of the model's open table; they carry no link to a real child (the model's open table holds
none). Days are counted from the origin (day 0); a stay open at the origin starts before it.

>>> from cscflow.forecast.simulated_stays import COLUMNS
>>> COLUMNS
['child', 'station', 'start', 'end', 'next', 'repeat', 'age']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cscflow.forecast.simulate import N_AGE, Round, WhatIf, run

if TYPE_CHECKING:
    from cscflow.forecast.model import ForecastModel

#: child (simulated, from 0), station (id), start and end (days after the origin), next (a station, an exit,
#: "other", or None while open at the horizon), repeat (0 first episode of need, 1 repeat), age (band index)
COLUMNS = ["child", "station", "start", "end", "next", "repeat", "age"]


def horizon_days(model: ForecastModel, horizon: int) -> float:
    """Days from the origin to the end of the last forecast month."""
    last = (model.origin_.to_period("M") + horizon).end_time.normalize() + pd.Timedelta(days=1)
    return float((last - model.origin_).days)


def simulate_stays(model: ForecastModel, horizon: int, seed: int = 0, what_if: WhatIf | None = None) -> pd.DataFrame:
    """The stays of one simulation of ``horizon`` months (:data:`COLUMNS`), in (child, start) order.

    ``attrs``: ``origin``, ``horizon_days``, ``n_open`` (children open at the origin) and ``replicate`` (the
    bootstrap replicate of the parameters drawn)."""
    rng = np.random.default_rng(seed)
    parts: list[Round] = []
    # the replicate run() draws first: the same generator state, drawn again here to report it
    n_boot = model.trans_.shape[0]
    b = int(np.random.default_rng(seed).integers(1, n_boot, 1)[0]) if n_boot > 1 else 0
    run(model, horizon, 1, rng, what_if or WhatIf(), parts.append)
    h_end = horizon_days(model, horizon)
    _, c, s, a, e, n, ce = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(c, kind="stable")  # rounds are in time order within a child
    names = np.asarray(model.stations_, dtype=object)
    targets = np.asarray([*model.targets_, None], dtype=object)  # index -1: None
    out = pd.DataFrame({"child": c[order], "station": names[s[order]], "start": a[order],
                        "end": np.minimum(e[order], h_end), "next": targets[n[order]],
                        "repeat": (ce[order] % 2).astype(np.int8),
                        "age": ((ce[order] // 2) % N_AGE).astype(np.int8)})
    out.attrs.update(origin=model.origin_, horizon_days=h_end, n_open=len(model.open_), replicate=b)
    return out


__all__ = ["COLUMNS", "horizon_days", "simulate_stays"]
