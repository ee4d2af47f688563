"""Simulate a fitted model forward from the children open at its origin, all simulations at once.

Every simulation draws one bootstrap replicate of the parameters (parameter uncertainty) and
its own shares (next stations, entry mix) and duration hazards for the horizon, varied as they vary between
half-years, then its own arrivals (Poisson by month about its own path of the arrivals' level, drawn from the
local linear trend of :mod:`cscflow.forecast.level`, times the month's effect and a gamma factor for the months'
noise beyond Poisson), next stations and durations (process uncertainty).
Stays are moved on in rounds: each round every stay that ends before the horizon draws its next
station and, if it is a station, its duration; a round is one numpy pass over all simulations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cscflow.forecast.ages import BAND_EDGES, BIRTH_MONTH_DAYS, draw_ages
from cscflow.forecast.estimate import NQ, PROBS, route_part
from cscflow.forecast.level import level_paths
from cscflow.forecast.siblings import group_sizes, shared_uniforms, split

if TYPE_CHECKING:
    from cscflow.forecast.model import ForecastModel

#: the rounds of moves after which a simulation stops (journeys are far shorter)
MAX_ROUNDS = 200
#: age bands in a group of cells (a cell is (group * N_AGE + age band) * 2 + repeat)
N_AGE = len(BAND_EDGES)


@dataclass
class WhatIf:
    """Changes to the fitted model: ``share`` scales the share of SOURCE->TARGET (the rest of SOURCE's
    shares rescaled to sum to one), ``arrivals`` scales the arrivals, ``duration`` scales a station's days, ``uasc``
    scales the arrivals of unaccompanied asylum-seeking children (their own level: a surge the LA knows has ended,
    a National Transfer Scheme rate), on top of ``arrivals``."""

    share: dict[tuple[str, str], float] = field(default_factory=dict)
    arrivals: float = 1.0
    duration: dict[str, float] = field(default_factory=dict)
    uasc: float = 1.0


def month_factors(model: ForecastModel, rng: np.random.Generator, shape: tuple[int, int],
                  variance: float | None = None) -> np.ndarray:
    """A gamma factor (mean 1) on each simulated month's arrivals, its variance (dispersion - 1) / mean monthly
    arrivals (or ``variance``), so that a month's arrivals vary as much as the fitted months did beyond Poisson
    (negative binomial)."""
    v = (model.arrival_dispersion_ - 1.0) / max(model.arrival_mean_, 1e-9) if variance is None else variance
    if v <= 0:
        return np.ones(shape)
    factors: np.ndarray = rng.gamma(1.0 / v, v, shape)
    return factors


def arrival_means(model: ForecastModel, months: pd.PeriodIndex, rep: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """The Poisson means of the arrivals (simulations x ``months``): each simulation's own path of the log level
    (:func:`cscflow.forecast.level.level_paths`), plus the month effects of its replicate ``rep``, times a gamma
    factor of the irregular's variance beyond Poisson."""
    steps = np.array([(m - model.arrival_months_[-1]).n for m in months], dtype=float)
    lvl = model.arrival_level_
    log_mean = level_paths(lvl, steps, len(rep), rng) + model.season_effects(months, rep)
    means: np.ndarray = np.exp(log_mean) * month_factors(model, rng, log_mean.shape, variance=lvl.extra)
    return means


def vary_shares(p: np.ndarray, pooled: np.ndarray, rho: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shares ``p`` (simulations x stations x cells x targets) varied once per simulation and station: each
    target's share times G_k / (a P_k), G_k ~ Gamma(a P_k), a = (1 - rho) / rho, ``pooled`` P (stations x targets),
    then scaled to sum to one, so that shares equal to the pooled ones become Dirichlet(a P). ``rho`` 0: as is."""
    n, n_s = p.shape[0], p.shape[1]
    r = np.ones((n, n_s, p.shape[-1]))
    for k in np.flatnonzero(rho > 0):
        a = (1.0 - rho[k]) / rho[k]
        pos = pooled[k] > 0
        shape = a * pooled[k, pos]
        r[:, k, pos] = rng.gamma(shape, 1.0 / shape, (n, int(pos.sum())))
    varied = p * r[:, :, None, :]
    total = varied.sum(-1, keepdims=True)
    out: np.ndarray = np.where(total > 0, varied / np.where(total > 0, total, 1.0), p)
    return out


def within_groups(model: ForecastModel, mix: np.ndarray) -> list[np.ndarray]:
    """The entry mix (simulations x entry station * cell) split by the model's groups of children (UASC or not):
    for each group the mix of its own cells, summing to one (zeros where the group has none)."""
    n_g = getattr(model, "n_groups_", 1)
    if n_g < 2:
        return [mix]
    n_c = model.trans_.shape[2]
    grp = (np.arange(mix.shape[1]) % n_c) // (n_c // n_g)
    out = []
    for g in range(n_g):
        part = np.where(grp == g, mix, 0.0)
        out.append(part / np.maximum(part.sum(1, keepdims=True), 1e-300))
    return out


def _arrivals(model: ForecastModel, months: pd.PeriodIndex, rep: np.ndarray, rng: np.random.Generator,
              wi: WhatIf) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arriving groups of every simulation, in simulation order: (simulation, month, entry station * cell,
    size). The other children come in groups of siblings, Poisson by month about the simulation's path of the
    level (children / mean group size); UASC one by one, Poisson about the simulation's draw of their own level
    (:class:`cscflow.forecast.level.CountLevel`); each group's station and cell drawn from its group's mix."""
    n_sims, horizon = len(rep), len(months)
    mix = vary_shares(model.entry_share_[rep][:, None, None, :], model.entry_share_[0][None, :],
                      np.array([model.entry_rho_]), rng)[:, 0, 0, :]
    mixes = within_groups(model, mix)
    lam = arrival_means(model, months, rep, rng) * wi.arrivals / max(getattr(model, "group_mean_", 1.0), 1.0)
    lams = [lam]
    uasc = getattr(model, "uasc_level_", None)
    if len(mixes) > 1 and uasc is not None:
        # one draw of their level a simulation, carried flat over the horizon as the other children's level is (the
        # discount model's own paths, Gamma(d^h a, d^h b) at month h, keep the mean but their median falls towards 0:
        # on the SSDA903 returns alone 50 UASC a year against 109 mean and 117 begun)
        lams.append(np.repeat(uasc.draw(rng, n_sims)[:, None], horizon, axis=1) * wi.arrivals * wi.uasc)
    parts = []
    for g, (lam_g, mix_g) in enumerate(zip(lams, mixes, strict=False)):
        n = rng.poisson(lam_g)
        g_sim = np.repeat(np.repeat(np.arange(n_sims), horizon), n.ravel())
        g_mon = np.repeat(np.tile(np.arange(horizon), n_sims), n.ravel())
        shc = np.cumsum(mix_g, axis=1)
        shc[:, -1] = 1.0
        k = _pick(shc, g_sim, rng.random(len(g_sim)))
        size = (group_sizes(getattr(model, "group_mean_", 1.0), rng, len(g_sim)) if g == 0
                else np.ones(len(g_sim), dtype=np.int64))
        parts.append((g_sim, g_mon, k, size))
    g_sim, g_mon, k, size = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.argsort(g_sim, kind="stable")
    return g_sim[order], g_mon[order], k[order], size[order]


def _ph(u: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Probabilities ``u`` of a duration curve F moved to the curve of hazard ``theta`` times F's (proportional
    hazards: S_theta = S^theta), so that F's quantile at the result is the moved curve's at ``u``."""
    out: np.ndarray = 1.0 - (1.0 - u) ** (1.0 / theta)
    return out


def _draw_days(q: np.ndarray, b: np.ndarray, s: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws from the quantile tables ``q[b, s]`` at probabilities ``u``."""
    pos = u * (NQ - 1)
    i = np.minimum(pos.astype(np.int64), NQ - 2)
    f = pos - i
    days: np.ndarray = q[b, s, i] * (1 - f) + q[b, s, i + 1] * f
    return days


def _pick(cum: np.ndarray, g: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Category drawn at probabilities ``u`` from row ``g`` of the cumulative shares ``cum`` (rows x K):
    one binary search over the rows laid end to end (row g shifted by g), not a rows x K comparison."""
    k = cum.shape[1]
    flat = (cum + np.arange(len(cum))[:, None]).ravel()
    pos = np.searchsorted(flat, u + g, side="right")
    picked: np.ndarray = np.minimum(pos - g * k, k - 1)
    return picked


#: one round of moves: simulation, child, station, start, end (days after the origin), next (a target index; -1
#: while open at the horizon) and cell of each stay
Round = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def run(model: ForecastModel, horizon: int, n_sims: int, rng: np.random.Generator, wi: WhatIf,
        record: Callable[[Round], None]) -> None:
    """Move the children of ``n_sims`` simulations on in rounds, giving every round's stays to ``record``.

    Children open at the origin are numbered 0..n_open - 1 (the model's open table) in each simulation, arrivals
    from n_open on. Siblings move together: the groups of the open table and the arrivals' groups (of mean size
    ``model.group_mean_``, :mod:`cscflow.forecast.siblings`) share their draws (an arrival group its entry station,
    cell, day, days and next step; every group its days and next step at each later station, where it stays
    together with the station's share ``model.together_`` or splits for good), their members kept next to each
    other. Every stay ends at the
    child's 18th
    birthday at the latest (a care leaver's at 21); a looked-after stay that does becomes a care leaver's stay
    with the fitted share (:mod:`cscflow.forecast.ages`)."""
    B = model.trans_.shape[0]
    q = _durations(model, wi)
    n_s, n_t = len(model.stations_), len(model.targets_)
    rep = rng.integers(1, B, n_sims) if B > 1 else np.zeros(n_sims, dtype=np.int64)
    # each simulation's own shares for the horizon: its replicate's, varied as the shares vary between periods,
    # then read by the part of the duration curve a stay ends in (its replicate's route ratios)
    trans = vary_shares(model.trans_[rep], model.share_pooled_, model.share_rho_, rng)
    trans = _apply_shares(model, route_shares(trans, model.route_ratio_[rep]), wi)
    cum = np.cumsum(trans, axis=-1)
    cum[..., -1] = 1.0
    n_cell, n_part = cum.shape[2], cum.shape[3]
    n_a = n_cell // 2
    # row ((simulation * n_stations + station) * n_cells + cell) * n_parts + part of the duration curve
    cum_rows = cum.reshape(-1, cum.shape[-1])
    months = pd.period_range(model.origin_.to_period("M") + 1, periods=horizon, freq="M")
    starts_edges = np.r_[0.0, month_ends(model, horizon)]
    h_end = starts_edges[-1] + 1.0
    care, leaver = _index(model, "looked_after"), _index(model, "care_leaver")
    # care ended at 18 leaves by the map's own exit for it where it has one (the real tracks draw that line)
    left18 = model.targets_.index("left_care_18") if "left_care_18" in model.targets_ else n_t - 1
    # open stays at the origin, copied into every simulation; their remaining days conditional on elapsed days
    o = model.open_
    n_o = len(o)
    sim = np.repeat(np.arange(n_sims), n_o)
    child = np.tile(np.arange(n_o), n_sims)
    b = rep[sim]
    st = np.tile(o["station"].to_numpy(), n_sims)
    cell = np.tile(o["cell"].to_numpy(), n_sims)
    el = np.tile(o["elapsed"].to_numpy(), n_sims)
    group = o["group"].to_numpy() if "group" in o else np.arange(n_o)
    n_g = int(group.max()) + 1 if n_o else 0
    cid = sim * n_g + np.tile(group, n_sims)
    keep = getattr(model, "together_", np.ones(n_s))
    # a group open at the origin is kept as the station's siblings are, or split (coincidences at a busy station)
    cid = split(rng, cid, getattr(model, "open_keep_", np.ones(n_s))[st], n_sims * n_g)
    n_g = n_g + n_o  # the arrivals' groups are numbered after the split ones
    o_st = o["station"].to_numpy() * n_a + o["cell"].to_numpy() // 2
    o_el = o["elapsed"].to_numpy()
    p0_table = np.empty((B, n_o))  # the share of each open stay's station's stays over by its elapsed days
    for bb in range(B):
        for ss in np.unique(o_st):
            m = o_st == ss
            p0_table[bb, m] = np.interp(o_el[m], q[bb, ss], PROBS)
    p0 = p0_table[b, child]
    # each simulation's hazard multiplier per station (durations vary between periods: ForecastModel.duration_tau2_)
    theta = np.exp(rng.standard_normal((n_sims, n_s)) * np.sqrt(model.duration_tau2_))
    u = 1.0 - (1.0 - p0) * (1.0 - shared_uniforms(rng, cid)) ** (1.0 / theta[sim, st])  # S(t) = S(e) V^(1/theta)
    start = -el
    lev = np.minimum(u, 1 - 1e-9)  # each stay's level in its duration curve: its next step is read by it
    end = np.maximum(_draw_days(q, b, st * n_a + cell // 2, lev), el) - el
    to18 = np.tile(np.nan_to_num(o["to_18"].to_numpy(dtype=float), nan=np.inf), n_sims)
    # arrivals: groups of siblings and UASC (_arrivals), each group at a uniform day of its month
    g_sim, g_mon, k, size = _arrivals(model, months, rep, rng, wi)
    g_start = starts_edges[g_mon] + rng.random(len(g_sim)) * (starts_edges[g_mon + 1] - starts_edges[g_mon])
    a_g = np.repeat(np.arange(len(g_sim)), size)
    a_sim, a_st, a_cell = g_sim[a_g], k[a_g] // n_cell, k[a_g] % n_cell
    a_start = g_start[a_g]
    a_b = rep[a_sim]
    a_cid = n_sims * n_g + a_g  # together at the entry station (a family is taken on as one after its contacts)
    a_lev = _ph(shared_uniforms(rng, a_cid), theta[a_sim, a_st])
    a_end = a_start + _draw_days(q, a_b, a_st * n_a + a_cell // 2, a_lev)
    a_age = draw_ages(model.age_q_, a_st * n_a + a_cell // 2, rng.random(len(a_g))) if hasattr(model, "age_q_") \
        else np.full(len(a_g), -np.inf)
    # each simulation numbers its arrivals from n_open on
    first_of_sim = np.searchsorted(a_sim, np.arange(n_sims))
    a_child = n_o + np.arange(len(a_g)) - first_of_sim[a_sim]
    sim, child, cid, b = np.r_[sim, a_sim], np.r_[child, a_child], np.r_[cid, a_cid], np.r_[b, a_b]
    st, cell = np.r_[st, a_st], np.r_[cell, a_cell]
    start, end, lev = np.r_[start, a_start], np.r_[end, a_end], np.r_[lev, a_lev]
    to18 = np.r_[to18, a_start + (18.0 - a_age) * 365.25]
    p_cl = getattr(model, "care_leaver_share_", np.zeros(B))
    # a stay the data hold open past the child's 18th birthday (21st for a care leaver), such as a CP plan never
    # closed, is not ended at the origin by the cap below: the data show it going on, and the caseload counts it,
    # so it ends as its station's stays of its elapsed days do, and the young adult then leaves ("other"). (Within
    # the birth month's days of it the birthday may not have come yet: the cap ends those as it always did.)
    n_open = len(el)  # the stays open at the origin come first, the arrivals after them
    past = np.r_[_cap(to18[:n_open], st[:n_open], leaver) <= -BIRTH_MONTH_DAYS, np.zeros(len(sim) - n_open, bool)]
    for _ in range(MAX_ROUNDS):
        # a child leaves children's services at 18 (a care leaver at 21): the stay ends there at the latest
        limit = np.where(past, np.inf, np.maximum(_cap(to18, st, leaver), np.maximum(start, 0.0)))
        capped = end > limit
        end = np.where(capped, limit, end)
        ended = end < h_end
        nxt = np.full(len(sim), -1, dtype=np.int64)
        u = shared_uniforms(rng, cid)
        pick = ended & ~capped & ~past
        part = route_part(lev, n_part)
        nxt[pick] = _pick(cum_rows, (((sim * n_s + st) * n_cell + cell) * n_part + part)[pick], u[pick])
        # at 18: a looked-after child becomes a care leaver with the fitted share, or leaves care at 18; others
        # leave ("other")
        at18 = ended & (capped | past)
        nxt[at18] = np.where(st[at18] == care, left18, n_t - 1)
        to_cl = at18 & (st == care) & (u < p_cl[b]) & (leaver >= 0)
        nxt[to_cl] = leaver
        record((sim, child, st, start, end, nxt, cell))
        go = (nxt >= 0) & (nxt < n_s)
        if not go.any():
            break
        sim, child, cid, b, to18 = sim[go], child[go], cid[go], b[go], to18[go]
        past = past[go]  # none go on: an open stay past the cap leaves when it ends
        # a care leaver is 16 plus, of the child's group (the durations' group: group * n_age + age band)
        grp16 = (cell[go] // 2 - (cell[go] // 2) % N_AGE + N_AGE - 1) * 2 + cell[go] % 2
        cell = np.where(to_cl[go], grp16, cell[go])
        st, start = nxt[go], end[go]
        cid = split(rng, cid, keep[st], int(cid.max()) + 1)  # a group goes on together at its new station or splits
        lev = _ph(shared_uniforms(rng, cid), theta[sim, st])
        end = start + _draw_days(q, b, st * n_a + cell // 2, lev)


def month_ends(model: ForecastModel, horizon: int) -> np.ndarray:
    """The day of each month end after the origin (origin = day 0)."""
    months = pd.period_range(model.origin_.to_period("M") + 1, periods=horizon, freq="M")
    return np.array([(m.end_time.normalize() + pd.Timedelta(days=1) - model.origin_).days - 1 for m in months],
                    dtype=float)


def simulate(model: ForecastModel, stations: list[str], horizon: int, n_sims: int = 200, seed: int = 0,
             what_if: WhatIf | None = None, moves: list[np.ndarray] | None = None,
             paths: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None) -> dict[str, np.ndarray]:
    """Monthly counts for each of ``stations``: ``starts`` (new stays a month), ``open`` (open at month
    end) and ``days`` (days spent at the station within the month, summed over stays), each an array
    (n_sims, horizon). ``moves``, when given a list, receives arrays of (station, next, days) of the
    simulated stays begun after the origin and ended within the horizon. ``paths``, when given a dict,
    receives for each of ``stations`` the (simulation, start, end) of every simulated stay there, in days
    after the origin (for checks that recount the simulated paths independently)."""
    rng = np.random.default_rng(seed)
    want = [model.stations_.index(s) for s in stations]
    rec: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {w: [] for w in want}

    def record(r: Round) -> None:
        sim, _, st, start, end, nxt, _ = r
        for w in want:
            m = st == w
            rec[w].append((sim[m], start[m], end[m]))
        if moves is not None:  # stays begun after the origin and ended within the horizon: station, next, days
            new = (start > 0) & (nxt >= 0)
            moves.append(np.column_stack([st[new], nxt[new], end[new] - start[new]]))

    run(model, horizon, n_sims, rng, what_if or WhatIf(), record)
    edges = month_ends(model, horizon)
    starts_edges = np.r_[0.0, edges]
    out: dict[str, np.ndarray] = {}
    for name, w in zip(stations, want, strict=True):
        s_sim = np.concatenate([r[0] for r in rec[w]]) if rec[w] else np.zeros(0, int)
        s_start = np.concatenate([r[1] for r in rec[w]]) if rec[w] else np.zeros(0)
        s_end = np.concatenate([r[2] for r in rec[w]]) if rec[w] else np.zeros(0)
        if paths is not None:
            paths[name] = (s_sim, s_start, s_end)
        new = s_start > 0
        mi = np.searchsorted(edges, s_start[new], side="left")  # month whose end is on/after the start
        okm = mi < horizon
        starts = np.zeros((n_sims, horizon))
        np.add.at(starts, (s_sim[new][okm], mi[okm]), 1)
        opened = np.zeros((n_sims, horizon))
        for j, e in enumerate(edges):
            m = (s_start <= e) & (s_end > e)
            opened[:, j] = np.bincount(s_sim[m], minlength=n_sims)
        days = np.zeros((n_sims, horizon))
        for j in range(horizon):  # month j is the days (starts_edges[j], starts_edges[j + 1]]
            lo, hi = starts_edges[j], starts_edges[j + 1]
            overlap = np.clip(np.minimum(s_end, hi) - np.maximum(s_start, lo), 0.0, None)
            days[:, j] = np.bincount(s_sim, weights=overlap, minlength=n_sims)
        out[f"{name}:starts"], out[f"{name}:open"], out[f"{name}:days"] = starts, opened, days
    return out


def _cap(to18: np.ndarray, st: np.ndarray, leaver: int) -> np.ndarray:
    """Days from the origin to the end of each stay's child's time in children's services: the 18th birthday, a
    care leaver's 21st."""
    cap: np.ndarray = to18 + np.where(st == leaver, 3 * 365.25, 0.0)
    return cap


def _index(model: ForecastModel, station: str) -> int:
    return model.stations_.index(station) if station in model.stations_ else -1


def route_shares(trans: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Next-station shares by the part of the duration curve a stay ends in: ``trans`` (simulations x stations x
    cells x targets) times the route ratios ``ratio`` (simulations x stations x parts x targets,
    :func:`cscflow.forecast.estimate.route_ratios`), scaled to sum to one: simulations x stations x cells x parts x
    targets."""
    joint = trans[:, :, :, None, :] * ratio[:, :, None, :, :]
    total = joint.sum(-1, keepdims=True)
    out: np.ndarray = np.where(total > 0, joint / np.where(total > 0, total, 1.0), trans[:, :, :, None, :])
    return out


def _apply_shares(model: ForecastModel, trans: np.ndarray, wi: WhatIf) -> np.ndarray:
    """The shares ``trans`` (simulations x stations x ...  x targets) with ``wi``'s changes of shares: SOURCE's share
    of TARGET times the factor in every cell, the rest of SOURCE's shares scaled to sum to one."""
    for (src, tgt), f in wi.share.items():
        i, j = model.stations_.index(src), model.targets_.index(tgt)
        old = trans[:, i, ..., j].copy()
        new = np.clip(old * f, 0.0, 1.0)
        rest = 1.0 - old
        scale = np.where(rest > 0, (1.0 - new) / np.where(rest > 0, rest, 1.0), 1.0)
        trans[:, i] *= scale[..., None]
        trans[:, i, ..., j] = new
    return trans


def _durations(model: ForecastModel, wi: WhatIf) -> np.ndarray:
    """The duration quantiles with ``wi``'s changes of days."""
    q = model.dur_q_.copy()
    n_a = model.trans_.shape[2] // 2
    for s, f in wi.duration.items():
        k = model.stations_.index(s)
        q[:, k * n_a:(k + 1) * n_a] *= f
    return q
