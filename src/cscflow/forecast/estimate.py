"""The estimators of the fitted model, each on stays weighted by a bootstrap draw of children.

- transitions: the share of each next station or exit among the stays that ended, by station,
  group (UASC or not), age band and repeat, each ended stay weighted by the inverse probability of having been seen to
  end (IPCW: 1 / G(d), G the share of the station's stays followed up at least d days), so that
  long routes are not under-counted near the origin; cells are shrunk to their group's shares at the station,
  and these to the station's pooled shares, with :data:`PRIOR` pseudo-stays;
- routes by duration: how each station's next-station shares differ along its duration curve
  (:func:`route_ratios`);
- durations: the Kaplan-Meier curve of each station's stays (censored at the origin), the stays already open at
  the observation start entering the risk set on the day they had reached by then (delayed entry), held as
  :data:`NQ` quantiles; beyond the last observed time the tail is exponential with mean the last time;
- arrivals: entries a month (first stays and re-entries after an exit) by a Poisson log-linear model
  of trend and month of the year, and the share of each entry station, age band and repeat (their level:
  :mod:`cscflow.forecast.level`; UASC a count of their own, :class:`cscflow.forecast.level.CountLevel`);
- the shares' drift: each station's next-station shares are a local level, its stays weighted by
  lambda ** (half-years before the origin), lambda by the one-step-ahead predictive likelihood of the
  half-yearly counts (:func:`share_discount`);
- variation between periods beyond sampling, read from month-long against half-year periods so that
  siblings moving together are not taken for it: of shares (a Dirichlet's intra-period correlation rho, about
  the local level's one-step-ahead predictions) and of durations (the variance tau2 of a period's log hazard
  ratio).
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
                groups: list[np.ndarray] | None = None, n_groups: int = 1) -> np.ndarray:
    """Shares (n_station, n_cell, n_target); ``target`` is -1 for stays still open; ``groups``: each
    station's row indices (computed when not given). With ``n_groups`` groups of children (cells laid out group
    after group, such as UASC and the others) a cell is shrunk to its group's shares at the station, themselves
    shrunk to the station's pooled shares with :data:`PRIOR` pseudo-stays (one group: the station's pooled
    shares)."""
    out = np.zeros((n_station, n_cell, n_target))
    for s in range(n_station):
        ix = groups[s] if groups is not None else np.flatnonzero(station == s)
        if len(ix) == 0:
            out[s, :, -1] = 1.0  # a station never seen: leave to "other"
            continue
        done, ipw = ipcw(ix, target, dur, follow, w)
        if len(done) == 0:
            out[s, :, -1] = 1.0
            continue
        counts = np.zeros((n_cell, n_target))
        np.add.at(counts, (cell[done], target[done]), ipw)
        pooled = counts.sum(0)
        if pooled.sum() == 0:
            out[s, :, -1] = 1.0
            continue
        pooled = pooled / pooled.sum()
        by_group = counts.reshape(n_groups, n_cell // n_groups, n_target).sum(1)
        group = (by_group + PRIOR * pooled) / (by_group.sum(1, keepdims=True) + PRIOR)
        out[s] = (counts + PRIOR * np.repeat(group, n_cell // n_groups, axis=0)) / (counts.sum(1, keepdims=True) + PRIOR)
    return out


#: the parts of a station's duration curve (equal probability) its next-station shares are read by
ROUTE_BINS = 5


def route_part(level: np.ndarray, n_parts: int = ROUTE_BINS) -> np.ndarray:
    """The part (0 to ``n_parts`` - 1, equal parts of probability) of its duration curve a stay at ``level`` falls in."""
    part: np.ndarray = np.minimum((np.asarray(level) * n_parts).astype(np.int64), n_parts - 1)
    return part


def duration_levels(q: np.ndarray, dur: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Each stay's level in its duration curve (quantiles ``q`` at :data:`PROBS`): where in the curve its ``dur``
    days fall, uniform (``u``) between F(d-) and F(d) when the curve holds the whole day (a randomised probability
    integral transform), so that stays of the curve's own durations have uniform levels, as simulated stays do."""
    lo = np.searchsorted(q, dur, side="left")
    hi = np.searchsorted(q, dur, side="right")
    a = np.maximum(lo - 1, 0) / (NQ - 1)
    b = np.maximum(hi - 1, 0) / (NQ - 1)
    out: np.ndarray = a + u * (b - a)
    return out


def route_ratios(groups: list[np.ndarray], level: np.ndarray, target: np.ndarray, dur: np.ndarray,
                 follow: np.ndarray, w: np.ndarray, n_target: int, n_bins: int = ROUTE_BINS) -> np.ndarray:
    """How each station's next steps depend on how long its stays last: (stations, ``n_bins``, targets) ratios
    P(next = k | the stay's level in its duration curve in part j) / P(next = k), the levels
    (:func:`duration_levels`) cut into ``n_bins`` equal parts, each ended stay weighted by IPCW (:func:`ipcw`) and
    each part's shares shrunk to the station's with :data:`PRIOR` pseudo-stays (1 where a target is never seen).

    An s47 enquiry that goes to a conference ends sooner than one that does not; an assessment that finds no need
    sooner than one that leads to a plan. Read with its own part of the curve, a stay still open at the origin
    after many days goes on as the long stays went on, not as all stays did (:func:`cscflow.forecast.simulate.run`)."""
    out = np.ones((len(groups), n_bins, n_target))
    for s, ix in enumerate(groups):
        done, ipw = ipcw(ix, target, dur, follow, w)
        if len(done) == 0:
            continue
        part = route_part(level[done], n_bins)
        counts = np.zeros((n_bins, n_target))
        np.add.at(counts, (part, target[done]), ipw)
        if counts.sum() <= 0:
            continue
        pooled = counts.sum(0) / counts.sum()
        cond = (counts + PRIOR * pooled) / (counts.sum(1, keepdims=True) + PRIOR)
        out[s] = np.where(pooled > 0, cond / np.where(pooled > 0, pooled, 1.0), 1.0)
    return out


def ipcw(ix: np.ndarray, target: np.ndarray, dur: np.ndarray, follow: np.ndarray,
         w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ended stays among rows ``ix`` (one station's) and their weights ``w / G(dur)``, G(d) the weighted share
    of the rows followed up at least d days (bounded below by 0.05)."""
    order = np.argsort(follow[ix], kind="stable")
    f, fw = follow[ix][order], np.cumsum(w[ix][order])
    total = fw[-1] if len(fw) else 0.0
    done = ix[target[ix] >= 0]
    if total <= 0 or len(done) == 0:
        return done[:0], np.zeros(0)
    below = np.searchsorted(f, dur[done], side="left")
    g = 1.0 - np.where(below > 0, fw[np.maximum(below - 1, 0)], 0.0) / total
    return done, w[done] / np.clip(g, 0.05, 1.0)


def km_quantiles(dur: np.ndarray, closed: np.ndarray, w: np.ndarray, presorted: bool = False,
                 entry: np.ndarray | None = None) -> np.ndarray:
    """The :data:`NQ` quantiles (days) of the weighted Kaplan-Meier curve of ``dur`` (``presorted``: by ``dur``).

    ``entry`` (optional, aligned with ``dur``): delayed entry. A stay already open when the data begin was seen
    only from its ``entry``-th day (negative: from its start): it is at risk at t when entry < t <= dur (Klein and
    Moeschberger 2003, 4.6), so the long stays open at the data's start give the curve's tail, without the
    length bias of counting them from day 0.

    >>> dur, ended = np.array([10.0, 20, 30, 600, 400]), np.array([1.0, 1, 1, 0, 1])
    >>> late = np.array([-1.0, -1, -1, -1, 300])  # the 400-day stay was 300 days in when the data began
    >>> float(km_quantiles(dur, ended, np.ones(5), entry=late)[NQ // 2]), float(km_quantiles(dur, ended, np.ones(5))[NQ // 2])
    (20.0, 30.0)
    """
    if len(dur) == 0 or w.sum() == 0:
        return np.full(NQ, 30.0)
    if presorted:
        d, c, ww, en = dur, closed, w, entry
    else:
        order = np.argsort(dur, kind="stable")
        d, c, ww = dur[order], closed[order], w[order]
        en = None if entry is None else entry[order]
    times, idx = np.unique(d, return_index=True)
    ev = np.add.reduceat(ww * c, idx)
    tot = np.add.reduceat(ww, idx)
    at_risk = ww.sum() - np.r_[0.0, np.cumsum(tot)[:-1]]
    if en is not None and np.any(en >= 0):
        late = en >= 0
        e_order = np.argsort(en[late], kind="stable")
        e_sorted, e_w = en[late][e_order], ww[late][e_order]
        # W(entry >= t): the late stays not yet seen at t
        at_risk = at_risk - (e_w.sum() - np.r_[0.0, np.cumsum(e_w)][np.searchsorted(e_sorted, times, side="left")])
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


#: the least effective stays in a period for the shares' variation between periods to be estimated
MIN_PERIOD = 30.0


def share_dispersion(block: np.ndarray, target: np.ndarray, w: np.ndarray, n_target: int) -> tuple[float, float]:
    """(X2 / dof, n~) of the shares of ``target`` (0..n_target-1) across periods ``block`` (weights ``w``): with
    period shares p_yk, pooled shares p_k, each period's effective size n_y = (sum w)^2 / sum w^2 (Kish), N their
    sum, Y periods and K targets,

        X2 = sum_y n_y sum_k (p_yk - p_k)^2 / p_k,   dof = (Y - 1)(K - 1),   n~ = (N - sum_y n_y^2 / N) / (Y - 1).

    Multinomial periods give X2 / dof near 1. (nan, 0) with fewer than two periods or targets."""
    ok = w > 0
    block, target, w = block[ok], target[ok], w[ok]
    if len(w) == 0:
        return float("nan"), 0.0
    blocks, b_ix = np.unique(block, return_inverse=True)
    counts = np.zeros((len(blocks), n_target))
    np.add.at(counts, (b_ix, target), w)
    tot = counts.sum(1)
    n_eff = tot ** 2 / np.maximum(np.bincount(b_ix, weights=w ** 2, minlength=len(blocks)), 1e-12)
    pooled = counts.sum(0) / counts.sum()
    k = pooled > 0
    n_y, n_k = len(blocks), int(k.sum())
    if n_y < 2 or n_k < 2:
        return float("nan"), 0.0
    p_y = counts[:, k] / tot[:, None]
    x2 = float(np.sum(n_eff[:, None] * (p_y - pooled[k]) ** 2 / pooled[k]))
    big_n = float(n_eff.sum())
    return x2 / ((n_y - 1) * (n_k - 1)), (big_n - float(np.sum(n_eff ** 2)) / big_n) / (n_y - 1)


def share_heterogeneity(months_back: np.ndarray, target: np.ndarray, w: np.ndarray, n_target: int,
                        period: int = 6) -> float:
    """The correlation rho of the shares of ``target`` within a period of ``period`` months (``months_back``: the
    months from each stay's start to the origin): how far a period's shares stray from the pooled shares beyond
    sampling. Children are not independent (siblings mostly follow one route), which inflates X2 / dof at every
    period length by a design effect d, while a period's own shares inflate it in proportion to its size:

        X2 / dof = d + (n~ - 1) rho     (Dirichlet-multinomial periods of clustered stays),

    so rho is read from the dispersions of month-long and ``period``-long periods
    (:func:`share_dispersion`): rho = max(0, (phi_period - phi_month) / (n~_period - n~_month)), 0 when a
    period holds fewer than :data:`MIN_PERIOD` effective stays, at most 0.5. A period's shares then vary as
    Dirichlet(p (1 - rho) / rho)."""
    phi_1, n_1 = share_dispersion(months_back, target, w, n_target)
    phi_p, n_p = share_dispersion(months_back // period, target, w, n_target)
    if not (np.isfinite(phi_1) and np.isfinite(phi_p)) or n_p < MIN_PERIOD or n_p <= n_1:
        return 0.0
    return float(np.clip((phi_p - phi_1) / (n_p - n_1), 0.0, 0.5))


#: the discounts tried by :func:`share_discount` (1: the pooled shares)
DISCOUNTS = np.round(np.arange(1.0, 0.0, -0.05), 2)
#: pseudo-stays, spread evenly over the targets seen, in a one-step-ahead prediction
PREDICT_PRIOR = 0.5


def _half_counts(half: np.ndarray, target: np.ndarray, w: np.ndarray, n_target: int) -> np.ndarray:
    """Weighted counts (half-years x targets) in time order: row 0 the earliest, the last row ``half`` 0."""
    n_h = int(half.max()) + 1 if len(half) else 0
    counts = np.zeros((n_h, n_target))
    np.add.at(counts, (n_h - 1 - half, target), w)
    return counts


def _one_step(counts: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """The local level's one-step-ahead predicted shares of each half-year (rows of ``counts``, time order) from
    the half-years before it, sum_{j<t} lam^(t-1-j) c_j plus :data:`PREDICT_PRIOR` pseudo-stays, and the level
    after the last half-year (the shares at the origin, without the prior)."""
    seen = counts.sum(0) > 0
    prior = PREDICT_PRIOR * seen / max(int(seen.sum()), 1)
    acc = np.zeros(counts.shape[1])
    pred = np.zeros_like(counts)
    for t in range(len(counts)):
        pred[t] = (acc + prior) / (acc.sum() + prior.sum())
        acc = lam * acc + counts[t]
    level = acc / acc.sum() if acc.sum() > 0 else acc
    return pred, level


def share_discount(half: np.ndarray, target: np.ndarray, w: np.ndarray, n_target: int,
                   grid: np.ndarray = DISCOUNTS) -> float:
    """The discount lambda of a station's local level of next-station shares: the shares at time t are
    sum_j lambda^(age_j) c_j / sum, c_j the (IPCW-)weighted counts of the stays begun in half-year j (``half``:
    half-years before the origin, 0 the last), and lambda (of ``grid``, 1 = pooled) maximises the one-step-ahead
    predictive log likelihood of the half-yearly counts,

        l(lambda) = sum_{t >= 1} sum_k c_tk log p_tk(lambda),   p_t(lambda) = (sum_{j<t} lambda^(t-1-j) c_j + a u) / (...),

    u even over the targets seen and a = :data:`PREDICT_PRIOR`. (Siblings moving together scale l by about
    1/d, which does not move its maximum.) Ties go to the larger lambda; 1 under three half-years or two
    targets."""
    ok = w > 0
    half, target, w = half[ok], target[ok], w[ok]
    if len(w) == 0:
        return 1.0
    counts = _half_counts(half, target, w, n_target)
    if len(counts) < 3 or int((counts.sum(0) > 0).sum()) < 2:
        return 1.0
    best, best_ll = 1.0, -np.inf
    for lam in grid:
        pred, _ = _one_step(counts, float(lam))
        c, p = counts[1:], pred[1:]
        ll = float(np.sum(c * np.log(np.where(c > 0, p, 1.0))))
        if ll > best_ll + 1e-9:
            best, best_ll = float(lam), ll
    return best


def share_drift(months_back: np.ndarray, target: np.ndarray, w: np.ndarray, n_target: int,
                period: int = 6, grid: np.ndarray = DISCOUNTS) -> tuple[float, np.ndarray, float]:
    """A station's next-station shares as a local level: (lambda, the level at the origin, rho).

    lambda: :func:`share_discount` on ``period``-month periods (``grid`` [1.0]: the pooled shares). rho: as :func:`share_heterogeneity`, but each
    period's shares are set against the local level's one-step-ahead prediction e_y from the periods before it
    (periods without one, the first, left out), months against the prediction of their period:

        X2 = sum_y n_y sum_k (p_yk - e_yk)^2 / e_yk,   phi = X2 / (Y (K - 1)),   n~ = mean n_y,
        E[phi] = d A + (n~ - 1) rho,   A = mean_y (1 + n_y / m_y),

    m_y the prediction's own effective size (Kish, of the discounted weights of the periods before y: e_y is an
    estimate, its sampling error adds n_y / m_y to a period's X2 / (K - 1)), and (d, rho) solve the two
    equations of month-long and ``period``-long periods:
    rho = max(0, (phi_period A_month - phi_month A_period) / ((n~_period - 1) A_month - (n~_month - 1) A_period)),
    so that rho is the variation of a period about the level (beyond sampling and siblings), not the drift that
    the level follows; 0 when a period holds fewer than :data:`MIN_PERIOD` effective stays, at most 0.5."""
    ok = w > 0
    months_back, target, w = months_back[ok], target[ok], w[ok]
    if len(w) == 0:
        return 1.0, np.zeros(n_target), 0.0
    half = months_back // period
    lam = share_discount(half, target, w, n_target, grid)
    counts = _half_counts(half, target, w, n_target)
    pred, level = _one_step(counts, lam)
    n_h = len(counts)
    t_of = n_h - 1 - half  # each stay's period in time order
    # each prediction's own effective size m_t (Kish, of the discounted weights of the periods before t)
    w1 = np.bincount(t_of, weights=w, minlength=n_h)
    w2 = np.bincount(t_of, weights=w ** 2, minlength=n_h)
    m_pred = np.full(n_h, np.inf)
    s1 = s2 = 0.0
    for t in range(n_h):
        if t >= 1 and s2 > 0:
            m_pred[t] = s1 ** 2 / s2
        s1, s2 = lam * s1 + w1[t], lam ** 2 * s2 + w2[t]
    use = (t_of >= 1) & np.isfinite(m_pred[t_of])
    # A half-year further from its prediction than variation of any rho <= 0.5 can take it (its X2 / (K - 1) above
    # n - 1 + 10 A) is a break the level then follows, such as a change of source (an event log's contacts with
    # their outcomes, then Annex A's without): left out with its months, so it is not read as variation (the
    # demo county's contacts read rho = 0.5 from it, and its referrals were forecast at 480 a month, 80%
    # interval 120-2,100, against 1,100-1,300 seen)
    k = counts.sum(0) > 0
    n_k = int(k.sum())
    if n_k < 2:
        return lam, level, 0.0
    if use.any():
        first, n_eff, x2 = _block_x2(half[use], target[use], w[use], t_of[use], pred, n_target, k)
        broken = first[x2 / (n_k - 1) > n_eff - 1 + 10.0 * (1.0 + n_eff / m_pred[first])]
        use &= ~np.isin(t_of, broken)
    phi, n_t, a_t = [], [], []
    for block in (months_back[use], half[use]):
        first, n_eff, x2 = _block_x2(block, target[use], w[use], t_of[use], pred, n_target, k)
        if len(first) < 2:
            return lam, level, 0.0
        phi.append(float(x2.sum()) / (len(first) * (n_k - 1)))
        n_t.append(float(n_eff.mean()))
        a_t.append(float(np.mean(1.0 + n_eff / m_pred[first])))
    (phi_1, phi_p), (n_1, n_p), (a_1, a_p) = phi, n_t, a_t
    den = (n_p - 1.0) * a_1 - (n_1 - 1.0) * a_p
    if n_p < MIN_PERIOD or n_p <= n_1 or den <= 0:
        return lam, level, 0.0
    return lam, level, float(np.clip((phi_p * a_1 - phi_1 * a_p) / den, 0.0, 0.5))


def _block_x2(block: np.ndarray, target: np.ndarray, w: np.ndarray, t_of: np.ndarray, pred: np.ndarray,
              n_target: int, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per period ``block`` (months or half-years) of the stays: its half-year (time index, for the prediction), its
    effective stays n (Kish) and X2 = n sum_k (p_k - e_k)^2 / e_k against its half-year's prediction, over the
    targets ``k``."""
    blocks, b_ix = np.unique(block, return_inverse=True)
    c = np.zeros((len(blocks), n_target))
    np.add.at(c, (b_ix, target), w)
    tot = c.sum(1)
    n_eff = tot ** 2 / np.maximum(np.bincount(b_ix, weights=w ** 2, minlength=len(blocks)), 1e-12)
    first = np.zeros(len(blocks), dtype=np.int64)
    first[b_ix] = t_of
    e = pred[first]
    x2 = n_eff * np.sum((c[:, k] / tot[:, None] - e[:, k]) ** 2 / e[:, k], axis=1)
    return first, n_eff, x2


def expected_ends(dur: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """Each stay's expected number of ends by its observed days under the Nelson-Aalen cumulative hazard of
    all of them, H(dur) (ends and censoring at ``dur``; ``closed`` 1 for an end): sum(H) = sum(closed)."""
    if len(dur) == 0:
        return np.zeros(0)
    times, inv = np.unique(dur, return_inverse=True)
    ends = np.bincount(inv, weights=closed.astype(float), minlength=len(times))
    at_risk = len(dur) - np.r_[0, np.cumsum(np.bincount(inv, minlength=len(times)))[:-1]]
    hazard: np.ndarray = np.cumsum(ends / np.maximum(at_risk, 1))
    return hazard[inv]


def duration_dispersion(block: np.ndarray, observed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """(X2 / (Y - 1), n~) of the ends ``observed`` (0/1 per stay) against their ``expected`` ends across periods
    ``block``: with O_y, E_y the period sums and c = sum O / sum E,

        X2 = sum_y (O_y - c E_y)^2 / (c E_y),   n~ = (sum E - sum_y E_y^2 / sum E) / (Y - 1).

    Periods of one hazard give X2 / (Y - 1) near 1 (Poisson ends). (nan, 0) with fewer than two periods."""
    keep = expected > 0
    blocks, ix = np.unique(block[keep], return_inverse=True)
    if len(blocks) < 2:
        return float("nan"), 0.0
    o = np.bincount(ix, weights=observed[keep].astype(float), minlength=len(blocks))
    e = np.bincount(ix, weights=expected[keep], minlength=len(blocks))
    c = o.sum() / e.sum() if e.sum() > 0 else 0.0
    if c <= 0:
        return float("nan"), 0.0
    x2 = float(np.sum((o - c * e) ** 2 / (c * e)))
    return x2 / (len(blocks) - 1), float((e.sum() - np.sum(e ** 2) / e.sum()) / (len(blocks) - 1))


def duration_heterogeneity(months_back: np.ndarray, observed: np.ndarray, expected: np.ndarray,
                           period: int = 6) -> float:
    """The variance tau2 of a period's log hazard ratio (a stay's hazard times exp(N(0, tau2)) for every stay
    begun in the period): ends beyond Poisson, E[X2 / (Y - 1)] = d + n~ tau2 (:func:`duration_dispersion`,
    d the design effect of siblings ending together), read from months against ``period``-month periods as
    for the shares: tau2 = max(0, (phi_period - phi_month) / (n~_period - n~_month)), 0 when a period holds
    fewer than :data:`MIN_PERIOD` expected ends, at most 0.5."""
    phi_1, n_1 = duration_dispersion(months_back, observed, expected)
    phi_p, n_p = duration_dispersion(months_back // period, observed, expected)
    if not (np.isfinite(phi_1) and np.isfinite(phi_p)) or n_p < MIN_PERIOD or n_p <= n_1:
        return 0.0
    return float(np.clip((phi_p - phi_1) / (n_p - n_1), 0.0, 0.5))
