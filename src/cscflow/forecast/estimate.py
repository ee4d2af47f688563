"""The estimators of the fitted model, each on stays weighted by a bootstrap draw of children.

- transitions: the share of each next station or exit among the stays that ended, by station,
  age band and repeat, each ended stay weighted by the inverse probability of having been seen to
  end (IPCW: 1 / G(d), G the share of the station's stays followed up at least d days), so that
  long routes are not under-counted near the origin; cells are shrunk to the station's pooled shares
  with :data:`PRIOR` pseudo-stays;
- durations: the Kaplan-Meier curve of each station's stays (censored at the origin), held as
  :data:`NQ` quantiles; beyond the last observed time the tail is exponential with mean the last time;
- arrivals: entries a month (first stays and re-entries after an exit) by a Poisson log-linear model
  of trend and month of the year, and the share of each entry station, age band and repeat.
"""

from __future__ import annotations

import numpy as np

#: pseudo-stays pulling a cell's transition shares to its station's pooled shares
PRIOR = 10.0
#: number of duration quantiles held per station
NQ = 201
PROBS = np.linspace(0.0, 1.0, NQ)


def transitions(station: np.ndarray, cell: np.ndarray, target: np.ndarray, dur: np.ndarray,
                follow: np.ndarray, w: np.ndarray, n_station: int, n_cell: int, n_target: int,
                groups: list[np.ndarray] | None = None) -> np.ndarray:
    """Shares (n_station, n_cell, n_target); ``target`` is -1 for stays still open; ``groups``: each
    station's row indices (computed when not given)."""
    out = np.zeros((n_station, n_cell, n_target))
    for s in range(n_station):
        ix = groups[s] if groups is not None else np.flatnonzero(station == s)
        if len(ix) == 0:
            out[s, :, -1] = 1.0  # a station never seen: leave to "other"
            continue
        # G(d): the weighted share of the station's stays followed up at least d days
        order = np.argsort(follow[ix], kind="stable")
        f, fw = follow[ix][order], np.cumsum(w[ix][order])
        total = fw[-1] if len(fw) else 0.0
        done = ix[target[ix] >= 0]
        if total <= 0 or len(done) == 0:
            out[s, :, -1] = 1.0
            continue
        below = np.searchsorted(f, dur[done], side="left")
        g = 1.0 - np.where(below > 0, fw[np.maximum(below - 1, 0)], 0.0) / total
        ipw = w[done] / np.clip(g, 0.05, 1.0)
        counts = np.zeros((n_cell, n_target))
        np.add.at(counts, (cell[done], target[done]), ipw)
        pooled = counts.sum(0)
        if pooled.sum() == 0:
            out[s, :, -1] = 1.0
            continue
        pooled = pooled / pooled.sum()
        out[s] = (counts + PRIOR * pooled) / (counts.sum(1, keepdims=True) + PRIOR)
    return out


def km_quantiles(dur: np.ndarray, closed: np.ndarray, w: np.ndarray, presorted: bool = False) -> np.ndarray:
    """The :data:`NQ` quantiles (days) of the weighted Kaplan-Meier curve of ``dur`` (``presorted``: by ``dur``)."""
    if len(dur) == 0 or w.sum() == 0:
        return np.full(NQ, 30.0)
    if presorted:
        d, c, ww = dur, closed, w
    else:
        order = np.argsort(dur, kind="stable")
        d, c, ww = dur[order], closed[order], w[order]
    times, idx = np.unique(d, return_index=True)
    ev = np.add.reduceat(ww * c, idx)
    tot = np.add.reduceat(ww, idx)
    at_risk = ww.sum() - np.r_[0.0, np.cumsum(tot)[:-1]]
    with np.errstate(divide="ignore", invalid="ignore"):
        haz = np.where(at_risk > 0, ev / at_risk, 0.0)
    surv = np.cumprod(1.0 - haz)
    cdf = 1.0 - surv
    q = np.empty(NQ)
    pos = np.searchsorted(cdf, PROBS - 1e-12, side="left")
    inside = pos < len(times)
    q[inside] = times[np.minimum(pos[inside], len(times) - 1)]
    t_last, s_last = float(times[-1]), float(max(surv[-1], 1e-9))
    mean_tail = max(t_last, 30.0)
    p_out = np.clip(PROBS[~inside], 0.0, 1.0 - 1e-6)
    q[~inside] = t_last + mean_tail * -np.log(np.clip((1.0 - p_out) / s_last, 1e-9, 1.0))
    q[0] = max(q[0], 0.0)
    return np.maximum.accumulate(q)


def poisson_glm(y: np.ndarray, x: np.ndarray, w: np.ndarray | None = None, iters: int = 25) -> np.ndarray:
    """Coefficients of a Poisson log-linear model (IRLS, a small ridge for empty months)."""
    beta = np.zeros(x.shape[1])
    beta[0] = np.log(max(y.mean(), 0.5))
    ridge = 1e-4 * np.eye(x.shape[1])
    for _ in range(iters):
        mu = np.exp(x @ beta)
        z = x @ beta + (y - mu) / mu
        wt = mu if w is None else mu * w
        new = np.linalg.solve(x.T @ (x * wt[:, None]) + ridge, x.T @ (wt * z))
        if np.max(np.abs(new - beta)) < 1e-8:
            beta = new
            break
        beta = new
    return beta


def design(t_years: np.ndarray, month_of_year: np.ndarray, season: bool = True) -> np.ndarray:
    """The arrivals model's design: intercept, trend (years) and month-of-year effects (January = 0)."""
    cols = [np.ones_like(t_years), t_years]
    if season:
        cols += [(month_of_year == m).astype(float) for m in range(1, 12)]
    return np.column_stack(cols)
