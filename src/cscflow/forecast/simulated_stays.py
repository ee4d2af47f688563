"""One run of the fitted model, child by child: the simulated stays the map plays after the forecast origin.

:func:`cscflow.forecast.simulate.simulate` moves all stays of many simulations on at once and keeps
counts; it does not follow a child from one stay to the next. :func:`simulate_stays` runs the same
model the same way for one simulation (one bootstrap replicate of the parameters; the run's own shares,
duration hazards and path of the arrivals' level, as the periods vary; the children open at the origin
with their remaining days conditional on the days already spent; Poisson arrivals about the level;
then rounds of next stations and durations, stays ended at 18, or 21 for care leavers), and keeps
each simulated child's stays in order: child, station, start, end, next.

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

from cscflow.forecast.estimate import PROBS
from cscflow.forecast.simulate import (
    MAX_ROUNDS,
    WhatIf,
    _apply,
    _draw_days,
    _index,
    _ph,
    _pick,
    arrival_means,
    vary_shares,
)

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
    wi = what_if or WhatIf()
    n_boot = model.trans_.shape[0]
    trans, q = _apply(model, wi)
    n_s = len(model.stations_)
    b = int(rng.integers(1, n_boot)) if n_boot > 1 else 0
    rep = np.array([b])
    bv = np.array(b)  # the replicate as an index array (broadcast against the stays)
    # the run's own shares for the horizon: its replicate's, varied as shares vary between periods (as simulate)
    trans = vary_shares(trans[rep], model.share_pooled_, model.share_rho_, rng)
    cum = np.cumsum(trans, axis=-1)
    cum[..., -1] = 1.0
    n_cell = cum.shape[2]
    n_a = n_cell // 2
    cum_rows = cum.reshape(-1, cum.shape[-1])  # row station * n_cells + cell
    months = pd.period_range(model.origin_.to_period("M") + 1, periods=horizon, freq="M")
    h_end = horizon_days(model, horizon)
    edges = np.array([(m.end_time.normalize() + pd.Timedelta(days=1) - model.origin_).days - 1 for m in months],
                     dtype=float)  # as simulate: the day of each month end after the origin
    starts_edges = np.r_[0.0, edges]
    # the children open at the origin: remaining days conditional on the days spent, under the run's hazard
    # multiplier of each station (durations vary between periods), as simulate does
    o = model.open_
    n_o = len(o)
    st = o["station"].to_numpy().astype(np.int64)
    cell = o["cell"].to_numpy().astype(np.int64)
    el = o["elapsed"].to_numpy().astype(float)
    row = st * n_a + cell // 2
    p0 = np.zeros(n_o)
    for ss in np.unique(row):
        m = row == ss
        p0[m] = np.interp(el[m], q[b, ss], PROBS)
    theta = np.exp(rng.standard_normal(n_s) * np.sqrt(model.duration_tau2_))
    u = 1.0 - (1.0 - p0) * (1.0 - rng.random(n_o)) ** (1.0 / theta[st])
    start = -el
    end = np.maximum(_draw_days(q, bv, row, np.minimum(u, 1 - 1e-9)), el) - el
    limit = o["to_18"].to_numpy() + np.where(st == _index(model, "care_leaver"), 3 * 365.25, 0.0)
    capped = np.isfinite(limit) & (end > np.maximum(limit, 0.0))
    end = np.where(capped, np.maximum(limit, 0.0), end)
    # arrivals: Poisson by month about the run's path of the level, each at a uniform time of its month
    lam = arrival_means(model, months, rep, rng)[0] * wi.arrivals
    n_arr = rng.poisson(lam)
    a_mon = np.repeat(np.arange(horizon), n_arr)
    mix = vary_shares(model.entry_share_[rep][:, None, None, :], model.entry_share_[0][None, :],
                      np.array([model.entry_rho_]), rng)[0, 0, 0, :]
    shc = np.cumsum(mix)
    shc[-1] = 1.0
    k = np.minimum(np.searchsorted(shc, rng.random(len(a_mon)), side="right"), len(shc) - 1)
    a_st, a_cell = k // n_cell, k % n_cell
    a_start = starts_edges[a_mon] + rng.random(len(a_mon)) * (starts_edges[a_mon + 1] - starts_edges[a_mon])
    a_end = a_start + _draw_days(q, bv, a_st * n_a + a_cell // 2, _ph(rng.random(len(a_mon)), theta[a_st]))
    child = np.arange(n_o + len(a_mon))
    st, cell = np.r_[st, a_st], np.r_[cell, a_cell]
    start, end = np.r_[start, a_start], np.r_[end, a_end]
    capped = np.r_[capped, np.zeros(len(a_mon), dtype=bool)]
    parts: list[tuple[np.ndarray, ...]] = []
    for _ in range(MAX_ROUNDS):
        go = (end < h_end) & ~capped
        nxt = np.full(len(child), -1, dtype=np.int64)  # -1: open at the horizon
        nxt[capped & (end < h_end)] = len(model.targets_) - 1  # left at 18 (21): out of the model, "other"
        nxt[go] = _pick(cum_rows, st[go] * n_cell + cell[go], rng.random(int(go.sum())))
        parts.append((child, st, start, end, nxt, cell))
        on = go & (nxt < n_s)
        child, cell, st, start = child[on], cell[on], nxt[on], end[on]
        if len(child) == 0:
            break
        end = start + _draw_days(q, bv, st * n_a + cell // 2, _ph(rng.random(len(child)), theta[st]))
        capped = np.zeros(len(child), dtype=bool)
    c, s, a, e, n, ce = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(c, kind="stable")  # rounds are in time order within a child
    names = np.asarray(model.stations_, dtype=object)
    targets = np.asarray([*model.targets_, None], dtype=object)  # index -1: None
    out = pd.DataFrame({"child": c[order], "station": names[s[order]], "start": a[order],
                        "end": np.minimum(e[order], h_end), "next": targets[n[order]],
                        "repeat": (ce[order] % 2).astype(np.int8), "age": (ce[order] // 2).astype(np.int8)})
    out.attrs.update(origin=model.origin_, horizon_days=h_end, n_open=n_o, replicate=b)
    return out


__all__ = ["COLUMNS", "horizon_days", "simulate_stays"]
