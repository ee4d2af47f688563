"""A semi-Markov model of the journeys on a workspace's map, fitted with a bootstrap over children.

>>> from cscflow.forecast.model import ForecastModel
>>> ForecastModel(n_boot=5).n_boot
5
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from cscflow.errors import AnalysisError
from cscflow.forecast import ages
from cscflow.forecast import estimate as est
from cscflow.forecast import siblings as sib
from cscflow.forecast.durations import MIN_KM, DurationStays, late_stays
from cscflow.forecast.level import (
    TREND_DAMPING,
    ArrivalLevel,
    CountLevel,
    fit_count_level,
    fit_level,
    level_paths,
)
from cscflow.forecast.stays import AGE_BANDS, load_stays, observation_start

if TYPE_CHECKING:
    from cscflow.disclosure import Disclosed
    from cscflow.workspace.protocol import WorkspaceLike

#: months after the observation start before a stay's repeat marker is trusted (see ForecastModel.fit_stays)
REPEAT_LOOKBACK = 24
#: months in a period over which the shares' variation between periods is measured (ForecastModel._fit_heterogeneity)
PERIOD_MONTHS = 6


def month_end_floor(when: Any) -> pd.Timestamp:
    """The last month end on or before ``when`` (a forecast origin is a month end)."""
    t = pd.Timestamp(when).normalize() + pd.Timedelta(days=1)
    return t.to_period("M").start_time - pd.Timedelta(days=1)


class ForecastModel:
    """Arrivals by month (trend, season), next-station shares (by age band and repeat, and by the part of
    the station's duration curve a stay ended in) and Kaplan-Meier durations per station (by age band; the stays
    open when the data begin with delayed entry), with ``n_boot`` bootstrap replicates over children
    (replicate 0 is the fit on the data as they are). ``fit()`` returns self; results end in ``_``.

    Unaccompanied asylum-seeking children (the children table's ``uasc``) are a group of their own when the data
    hold any (``uasc=True``): they come as the Home Office and the National Transfer Scheme send them, not as the
    LA's own demand does, nearly all go into care, and stay there to 18 (DfE's children looked after statistics
    count them apart). Pooled with the other children, a surge of their arrivals reads as the 14-17-year-olds'
    demand for care: the shares into care and the durations of the older bands follow them. So a cell is
    (group, age band, repeat), ``cell = (group * n_age + age) * 2 + repeat``, and the durations are by (group, age
    band), ``cell // 2``: the entry mix, the next-station shares and the durations are each read by group; their
    arrivals are a count of their own (``uasc_level_``, :class:`cscflow.forecast.level.CountLevel`), the arrivals'
    level model (``arrival_level_``) the other children's."""

    @property
    def method_(self) -> str:
        """One sentence on the method, with how the arrivals' slope is projected."""
        phi = self.trend_damping
        trend = ("the recent trend not carried forward" if phi <= 0 else "the recent trend carried forward"
                 if phi >= 1 else f"the recent trend carried forward damped by {phi:g} a month")
        uasc = (", UASC at a Poisson-gamma level of their own" if getattr(self, "uasc_level_", None) is not None
                else "")
        return ("semi-Markov model: IPCW transition shares by length of stay, Kaplan-Meier durations with delayed "
                f"entry, overdispersed Poisson arrivals at the current level of a local linear trend, {trend}{uasc}; "
                "child bootstrap")

    def __init__(self, pmap: str = "england", origin: Any = None, n_boot: int = 20, seed: int = 0,
                 arrival_years: float = 4.0, repeat_lookback: int = REPEAT_LOOKBACK, drift: bool = True,
                 uasc: bool = True, trend_damping: float = TREND_DAMPING) -> None:
        self.pmap, self.origin, self.n_boot, self.seed = pmap, origin, int(n_boot), int(seed)
        # the arrivals' slope carried forward damped by this much a month (cscflow.forecast.level): 0, the
        # default, projects their level flat; 1 the fitted local linear trend
        self.trend_damping = float(trend_damping)
        self.arrival_years, self.repeat_lookback = float(arrival_years), int(repeat_lookback)
        # drift False: pooled shares over the window (the discount held at 1) and the entry mix of the last 24
        # months, as `cscflow synth --from` wants (the synthetic data reproduce the whole window as it reads)
        self.drift = bool(drift)
        self.uasc = bool(uasc)

    # -- fitting ---------------------------------------------------------------------------------------------
    def fit(self, ws: WorkspaceLike) -> ForecastModel:
        """Fit on the stays of ``ws`` begun between the observation start and the origin."""
        return self.fit_stays(*self.stays_of(ws))

    def stays_of(self, ws: WorkspaceLike) -> tuple[pd.DataFrame, list[str], list[str], pd.Timestamp]:
        """The stays of ``ws`` cut at the model's origin (default: the data's last month end), its stations and
        exits, and the observation start: what :meth:`fit_stays` takes. An origin after the data is refused."""
        from cscflow.journeys import data_end

        last = month_end_floor(data_end(ws))
        origin = last if self.origin is None else month_end_floor(self.origin)
        if origin > last:  # nothing is known of the months between the data's end and such an origin
            raise AnalysisError(f"forecast origin {self.origin} (month end {origin.date()}) is after the data's last "
                                f"month end {last.date()}",
                                hint=f"choose an origin on or before {last.date()} (the default is {last.date()})")
        stays, stations, exits = load_stays(ws, self.pmap, origin)
        return stays, stations, exits, observation_start(ws)

    def fit_stays(self, stays: pd.DataFrame, stations: list[str], exits: list[str],
                  obs_start: pd.Timestamp) -> ForecastModel:
        """Fit on prepared stays (:func:`cscflow.forecast.stays.cut`)."""
        origin = pd.Timestamp(stays.attrs.get("origin", stays["start"].max()))
        self.origin_, self.obs_start_ = origin, pd.Timestamp(obs_start)
        if self.obs_start_ >= origin - pd.DateOffset(months=12):
            raise AnalysisError(f"only {(origin - self.obs_start_).days} days observed before the origin "
                                f"{origin.date()} (from {self.obs_start_.date()})",
                                hint="fit on at least a year of complete data: choose a later origin")
        self.stations_, self.exits_ = list(stations), list(exits)
        self.targets_ = self.stations_ + self.exits_ + ["other"]
        tix = {t: i for i, t in enumerate(self.targets_)}
        sid = stays["station"].map(tix).to_numpy()
        in_win = (stays["start"] >= self.obs_start_).to_numpy()
        # UASC a group of their own when the data hold any (the class doc)
        self.n_groups_ = 2 if self.uasc and "uasc" in stays and bool(stays["uasc"].any()) else 1
        self.open_ = self._open_table(stays, sid, origin)
        # ends at 18 are the model's cap, not a route; care leavers after care ended at 18 come from care
        # (cscflow.forecast.ages)
        day = pd.Timedelta(days=1)
        s_day = ((stays["start"] - origin) / day).to_numpy()
        e_day = ((stays["end"] - origin) / day).to_numpy()
        care_i, leaver_i = tix.get("looked_after", -9), tix.get("care_leaver", -9)
        left = ~stays["next"].isin(self.stations_).to_numpy()  # an exit (or "other"): the child left
        at18_all = ages.ended_at_18(stays["age_years"].to_numpy(dtype=float), e_day - s_day,
                                    stays["end"].notna().to_numpy() & left, sid != leaver_i)
        cl_pos = ages.after_care(stays["child_id"].to_numpy(), sid, s_day, e_day, care_i, leaver_i)
        from_care_all = np.zeros(len(stays), dtype=bool)
        from_care_all[cl_pos[(cl_pos >= 0) & at18_all]] = True
        s = stays[in_win]
        st = sid[in_win].astype(int)
        end = s["end"].fillna(origin)
        dur = ((end - s["start"]) / pd.Timedelta(days=1)).to_numpy()
        follow = ((origin - s["start"]) / pd.Timedelta(days=1)).to_numpy()
        nxt = s["next"].map(tix)
        target_seen = np.where(nxt.isna(), -1, nxt.fillna(-1)).astype(int)
        at18 = at18_all[in_win]
        target = np.where(at18, -1, target_seen)  # censored at 18: neither a route nor an end of the durations
        closed = target >= 0
        care_seen = at18 & (st == care_i) & (e_day[in_win] <= -ages.CARE_LEAVER_GAP)
        followed = cl_pos[in_win] >= 0
        cell = self._cells(s)  # cell // 2 is the durations' group
        # The durations also read the stays already open at the observation start, with delayed entry
        # (cscflow.forecast.durations): from the window's own stays alone a curve ends at the window's length.
        codes, uniq = pd.factorize(s["child_id"])
        late = late_stays(stays, in_win, sid < len(self.stations_), self.obs_start_)
        sl = stays[late]
        l_next = sl["next"].map(tix)
        l_ended = (np.where(l_next.isna(), -1, l_next.fillna(-1)).astype(int) >= 0) & ~at18_all[late]
        d_stays = DurationStays.build((dur, closed, st, cell // 2), sl, (l_ended, sid[late].astype(int),
                                                                         self._cells(sl) // 2),
                                      pd.Index(uniq), origin, self.obs_start_)
        rng_late = np.random.default_rng(self.seed + 2)  # its own generator: the window's draws unmoved
        # The repeat marker counts the episodes of need seen: near the observation start a child's earlier
        # episodes fall before the data, so a repeat looks like a first episode there and the first-episode
        # cells take repeat-like outcomes (on the demo county 27% of first contacts went to a referral in the
        # window's first year against 13% from its third). The shares by cell (transitions and the entry mix)
        # are fitted on stays begun after a look-back, leaving at least 12 months; durations do not use it.
        self.cells_from_ = min(self.obs_start_ + pd.DateOffset(months=self.repeat_lookback),
                               origin - pd.DateOffset(months=12))
        known = (s["start"] >= self.cells_from_).to_numpy()
        # The shares drift (on the 30,000-child county assessments went into care at 7.0%, 4.7% and 3.8% in the
        # three years to 2017-03): each station's are a local level, its stays weighted by lambda ** (half-years
        # before the origin), lambda by the one-step-ahead predictive likelihood of its half-yearly counts
        # (estimate.share_drift, on the whole window), the same weights in every bootstrap replicate.
        o_m = origin.year * 12 + origin.month
        back = (o_m - (s["start"].dt.year * 12 + s["start"].dt.month).to_numpy()).astype(int)
        grid = est.DISCOUNTS if self.drift else np.ones(1)
        self._fit_drift(st, target, dur, follow, back, len(self.stations_), len(self.targets_), grid)
        lam = self.share_discount_[np.minimum(st, len(self.stations_) - 1)]
        drift_w = np.where(st < len(self.stations_), lam ** np.maximum(back // PERIOD_MONTHS, 0), 1.0)
        # arrivals
        entries = s["entry"].to_numpy() & (st < len(self.stations_)) & ~from_care_all[in_win]
        month = (s["start"].dt.year * 12 + s["start"].dt.month - 1).to_numpy()
        first_m = max(self.obs_start_.to_period("M"), (origin - pd.DateOffset(years=self.arrival_years)).to_period("M"))
        months = pd.period_range(first_m, origin.to_period("M"), freq="M")
        self.arrival_months_ = months
        m_idx = month - (months[0].year * 12 + months[0].month - 1)
        ok = entries & (m_idx >= 0) & (m_idx < len(months))
        t_years = (np.arange(len(months)) - (len(months) - 1)) / 12.0
        x = est.design(t_years, np.asarray(months.month) - 1, season=len(months) >= 24)
        self.season_ = len(months) >= 24
        n_s, n_c, n_t = len(self.stations_), len(AGE_BANDS) * 2 * self.n_groups_, len(self.targets_)
        rng = np.random.default_rng(self.seed)
        B = max(self.n_boot, 1)
        self.trans_ = np.zeros((B, n_s, n_c, n_t))
        n_a = len(AGE_BANDS) * self.n_groups_  # the durations' groups: (group, age band)
        self.dur_q_ = np.zeros((B, n_s * n_a, est.NQ))  # by station * n_a + cell // 2
        age = cell // 2
        self.arrival_beta_ = np.zeros((B, x.shape[1]))
        self.entry_share_ = np.zeros((B, n_s * n_c))
        self.arrival_counts_ = np.zeros(len(months))
        self.care_leaver_share_ = np.zeros(B)
        # the entry mix (entry station x cell) as a local level too: the entries of the arrivals' window weighted
        # by lambda ** (half-years before the origin), lambda by the one-step-ahead likelihood (with drift off:
        # the last 24 months unweighted)
        n_cells = n_s * n_c
        mix = ok & known & (self.drift | (m_idx >= len(months) - 24))
        mix_k = st * n_c + cell
        self.entry_discount_, _, self.entry_rho_ = est.share_drift(back[mix], mix_k[mix], np.ones(int(mix.sum())),
                                                                   n_cells, PERIOD_MONTHS, grid)
        mix_w = np.where(mix, self.entry_discount_ ** np.maximum(back // PERIOD_MONTHS, 0), 0.0)
        # UASC arrive as the Home Office and the National Transfer Scheme send them: read as a share of the entry
        # mix, a surge (the synthetic county's 270 days from July 2015) is carried on for a year after it ends. They
        # are a count of their own, a Poisson-gamma local level (level.fit_count_level); the level model of the
        # arrivals is the other children's, and the mix is read within each group.
        uasc_entry = (cell // (n_c // self.n_groups_) == 1) if self.n_groups_ > 1 else np.zeros(len(cell), bool)
        self.uasc_counts_ = np.bincount(m_idx[ok & uasc_entry], minlength=len(months))[: len(months)].astype(float)
        self.uasc_level_: CountLevel | None = fit_count_level(self.uasc_counts_) if self.n_groups_ > 1 else None
        ok_other = ok & ~uasc_entry
        # index sets built once: each station's stays sorted by duration (Kaplan-Meier) and by follow-up (IPCW)
        by_station = [np.flatnonzero(st == k) for k in range(n_s)]
        by_station = [ix[np.argsort(dur[ix], kind="stable")] for ix in by_station]
        by_age = [[ix[age[ix] == a] for a in range(n_a)] for ix in by_station]
        d_by_station, d_by_age, d_by_group = d_stays.index_sets(n_s, self.n_groups_, len(AGE_BANDS))
        # how the next steps depend on the days a stay lasted (estimate.route_ratios): each stay's level in its
        # duration curve, its place within a whole day drawn once (its own generator: the bootstrap's draws unmoved)
        self.route_ratio_ = np.ones((B, n_s, est.ROUTE_BINS, n_t))
        level_u = np.random.default_rng(self.seed + 1).random(len(st))
        level = np.zeros(len(st))
        for b in range(B):
            if b == 0:
                wc = np.ones(len(uniq))
            else:
                wc = np.bincount(rng.integers(0, len(uniq), len(uniq)), minlength=len(uniq)).astype(float)
            w = wc[codes] if len(codes) else np.zeros(0)
            w_all = d_stays.weights(wc, w, None if b == 0 else rng_late)
            self.care_leaver_share_[b] = ages.care_leaver_share(care_seen, followed, w)
            self.trans_[b] = est.transitions(st, cell, target, dur, follow, w * known * drift_w, n_s, n_c, n_t,
                                             groups=by_station, n_groups=self.n_groups_)
            for k in range(n_s):
                self.dur_q_[b, k * n_a:(k + 1) * n_a] = d_stays.curves(d_by_station[k], d_by_group[k],
                                                                      d_by_age[k], w_all)
                for a, ia in enumerate(by_age[k]):
                    level[ia] = est.duration_levels(self.dur_q_[b, k * n_a + a], dur[ia], level_u[ia])
            self.route_ratio_[b] = est.route_ratios(by_station, level, target, dur, follow, w, n_t)
            y: np.ndarray = np.bincount(m_idx[ok_other], weights=w[ok_other], minlength=len(months))[: len(months)]
            if b == 0:
                self.arrival_counts_ = y
            self.arrival_beta_[b] = est.poisson_glm(y, x)
            sh = np.bincount(mix_k[mix], weights=(w * mix_w)[mix], minlength=n_cells)
            self.entry_share_[b] = sh / max(sh.sum(), 1e-9)
        # Months vary more than Poisson (the days of the week and holidays a month holds, the school terms of a
        # year): the Pearson dispersion of the fit, drawn in simulation as a gamma factor on each month's arrivals.
        mu = np.exp(x @ self.arrival_beta_[0])
        dof = max(len(months) - x.shape[1], 1)
        self.arrival_dispersion_ = max(float(np.sum((self.arrival_counts_ - mu) ** 2 / mu) / dof), 1.0)
        self.arrival_mean_ = float(mu.mean())
        # The level of the arrivals moves more than a straight line allows: a local linear trend (random-walk
        # level, fixed slope) on the seasonally adjusted log entries gives the level, slope and level changes
        # the simulations draw (cscflow.forecast.level); the slope places the level at the origin and is not
        # carried forward unless trend_damping says so (an LA's recent trend in demand does not persist).
        self.arrival_level_: ArrivalLevel = fit_level(self.arrival_counts_,
                                                      self.season_effects(months, 0)[0], self.trend_damping)
        recent = ok & known & (m_idx >= len(months) - 24)
        self._fit_heterogeneity(s, st, target, dur)
        # simulated arrivals' ages within their band; siblings: the design effect of entries moving together
        self.age_q_ = ages.age_quantiles(st[recent], age[recent], s["age_years"].to_numpy(dtype=float)[recent], n_s,
                                         self.n_groups_)
        e = (target_seen >= 0) & (st < n_s)
        self.sibling_d_, self.together_, self.design_effect_ = sib.together(
            st[e], -follow[e], dur[e], target_seen[e], s["entry"].to_numpy(dtype=bool)[e], n_s)
        self.group_mean_ = 1.0 + (self.design_effect_ - 1.0) / 2.0
        self.open_keep_ = sib.open_keep(self.open_["station"].to_numpy(), self.open_["group"].to_numpy(),
                                        self.sibling_d_)
        for k in range(n_s):  # consecutive stays at one station are merged: no self-loops
            self.trans_[:, k, :, k] = 0.0
        self.trans_ /= self.trans_.sum(-1, keepdims=True)
        self.n_stays_ = int(len(s))
        self.n_children_ = int(len(uniq))
        return self

    def _cells(self, s: pd.DataFrame) -> np.ndarray:
        """Each stay's cell, (group * n_age + age band) * 2 + repeat (group 1: UASC, when the model has the group)."""
        group = s["uasc"].to_numpy(dtype=bool).astype(int) if self.n_groups_ > 1 else np.zeros(len(s), dtype=int)
        cell: np.ndarray = (group * len(AGE_BANDS) + s["age"].to_numpy().astype(int)) * 2 \
            + s["repeat"].to_numpy().astype(int)
        return cell

    def _fit_drift(self, st: np.ndarray, target: np.ndarray, dur: np.ndarray, follow: np.ndarray,
                   back: np.ndarray, n_s: int, n_t: int, grid: np.ndarray) -> None:
        """Each station's next-station shares as a local level (:func:`cscflow.forecast.estimate.share_drift`):
        the discount lambda, the level at the origin (the shares a simulation's are varied about) and the
        variation rho of a half-year about the level's one-step-ahead prediction, on the IPCW-weighted ended
        stays of the whole window."""
        self.share_discount_ = np.ones(n_s)
        self.share_rho_ = np.zeros(n_s)
        self.share_pooled_ = np.zeros((n_s, n_t))
        for k in range(n_s):
            done, ipw = est.ipcw(np.flatnonzero(st == k), target, dur, follow, np.ones(len(st)))
            keep = ipw > 0
            done, ipw = done[keep], ipw[keep]
            if len(done) == 0:
                continue
            lam, level, rho = est.share_drift(back[done], target[done], ipw, n_t, PERIOD_MONTHS, grid)
            self.share_discount_[k], self.share_pooled_[k], self.share_rho_[k] = lam, level, rho

    def _fit_heterogeneity(self, s: pd.DataFrame, st: np.ndarray, target: np.ndarray, dur: np.ndarray) -> None:
        """How much the durations vary between half-years (the shares' variation, of the next stations and the
        entry mix, is read about their local level: :meth:`_fit_drift`, ``estimate.share_drift``). Durations: the variance
        tau2 of a half-year's log hazard ratio (:func:`cscflow.forecast.estimate.duration_heterogeneity`, stays
        of the whole window); a simulation multiplies each station's hazards by exp(N(0, tau2))."""
        n_s = len(self.stations_)
        o_m = self.origin_.year * 12 + self.origin_.month
        back = (o_m - (s["start"].dt.year * 12 + s["start"].dt.month).to_numpy()).astype(int)
        # durations: each stay's expected ends under its station and age band's Nelson-Aalen curve (the curves the
        # model draws from), against its ends, by the month of its start
        self.duration_tau2_ = np.zeros(n_s)
        age = self._cells(s) // 2  # the durations' groups
        closed = target >= 0
        for k in range(n_s):
            ix = np.flatnonzero(st == k)
            if len(ix) == 0:
                continue
            expected = np.zeros(len(ix))
            small = np.zeros(len(ix), dtype=bool)
            for a in np.unique(age[ix]):
                m = age[ix] == a
                if m.sum() >= MIN_KM:
                    expected[m] = est.expected_ends(dur[ix[m]], closed[ix[m]])
                else:
                    small |= m
            if small.any():  # the model's curve of all ages for small age bands
                expected[small] = est.expected_ends(dur[ix], closed[ix])[small]
            self.duration_tau2_[k] = est.duration_heterogeneity(back[ix], closed[ix], expected, PERIOD_MONTHS)

    def _open_table(self, stays: pd.DataFrame, sid: np.ndarray, origin: pd.Timestamp) -> pd.DataFrame:
        """The stays open at the origin (station, cell, elapsed days, days to the 18th birthday and the group of
        siblings that move together, :func:`cscflow.forecast.siblings.open_groups`), a group's stays together."""
        open_ = stays["end"].isna().to_numpy() & (sid < len(self.stations_))
        o = stays[open_]
        table = pd.DataFrame({"station": sid[open_].astype(int),
                              "cell": self._cells(o),
                              "elapsed": ((origin - o["start"]) / pd.Timedelta(days=1)).to_numpy(),
                              # days from the origin to the child's 18th birthday (NaN: unknown)
                              "to_18": (18.0 - o["age_years"].to_numpy()) * 365.25
                              - ((origin - o["start"]) / pd.Timedelta(days=1)).to_numpy(),
                              "group": sib.open_groups(stays.reset_index(drop=True), np.flatnonzero(open_))})
        return table.sort_values("group", kind="stable").reset_index(drop=True)

    # -- reading the fit -------------------------------------------------------------------------------------
    def arrivals_expected(self, months: pd.PeriodIndex, b: int | slice | np.ndarray = slice(None)) -> np.ndarray:
        """Expected entries a month in ``months`` under replicate(s) ``b`` (replicates x months)."""
        t_years = np.array([(m - self.arrival_months_[-1]).n for m in months], dtype=float) / 12.0
        x = est.design(t_years, np.asarray(months.month) - 1, season=self.season_)
        expected: np.ndarray = np.exp(np.atleast_2d(self.arrival_beta_[b]) @ x.T)
        return expected

    def season_effects(self, months: pd.PeriodIndex, b: int | slice | np.ndarray = slice(None)) -> np.ndarray:
        """The log month-of-year effects (January = 0) of ``months`` under replicate(s) ``b`` (replicates x months)."""
        beta = np.atleast_2d(self.arrival_beta_[b])
        if not self.season_:
            return np.zeros((len(beta), len(months)))
        x = est.design(np.zeros(len(months)), np.asarray(months.month) - 1, season=True)[:, 2:]
        effects: np.ndarray = beta[:, 2:] @ x.T
        return effects

    def shares(self, station: str) -> pd.DataFrame:
        """The pooled next-station shares of ``station`` (all age bands and repeats, weighted by entries
        is not needed here: the cell of the median child), with the bootstrap's 2.5% and 97.5% points."""
        k = self.stations_.index(station)
        p = self.trans_[:, k, : 2 * len(AGE_BANDS)].mean(1)  # (B, targets): the children not UASC
        lo, hi = np.percentile(p, [2.5, 97.5], axis=0) if len(p) > 1 else (p[0], p[0])
        df = pd.DataFrame({"target": self.targets_, "share": p[0], "lower95": lo, "upper95": hi})
        return df[df["share"] > 0.0005].sort_values("share", ascending=False).reset_index(drop=True)

    def shares_by_days(self, station: str) -> dict[str, list[float]]:
        """The next-station shares of ``station`` (the children not UASC, all age bands and repeats) in each part of
        its duration curve, shortest stays first (:func:`cscflow.forecast.estimate.route_ratios`), for the
        targets of 1% or more."""
        from cscflow.forecast.simulate import route_shares

        k = self.stations_.index(station)
        by_part = route_shares(self.trans_[:1, k:k + 1, : 2 * len(AGE_BANDS)],
                               self.route_ratio_[:1, k:k + 1])[0, 0].mean(0)  # parts x targets
        return {t: [round(float(v), 4) for v in by_part[:, i]] for i, t in enumerate(self.targets_)
                if by_part[:, i].mean() >= 0.01}

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain data in the synth parameters' spirit (medians in days, shares)."""
        def r(x: float) -> float:
            return round(float(x), 4)

        from cscflow.disclosure import suppress_value

        out: dict[str, Any] = {"method": self.method_, "origin": str(self.origin_.date()),
                               "observation_start": str(self.obs_start_.date()), "bootstrap_replicates": self.n_boot,
                               # counts of children leave the machine as every count does: 1 to 4 shown as <5
                               "children": suppress_value(self.n_children_), "stays": suppress_value(self.n_stays_),
                               # the groups of children read apart (cells, durations): UASC when the data hold any
                               "groups": ["not_uasc", "uasc"][: self.n_groups_] if self.n_groups_ > 1 else ["all"]}
        # the expected entries of the next 12 months as the simulations draw them: the level's paths (its
        # state at the origin, its changes) with the replicates' month effects
        nxt = pd.period_range(self.origin_.to_period("M") + 1, periods=12, freq="M")
        rng = np.random.default_rng(self.seed)
        reps = rng.integers(0, len(self.arrival_beta_), 2000)
        lvl = self.arrival_level_
        yearly = np.exp(level_paths(lvl, np.arange(1, 13), len(reps), rng) + self.season_effects(nxt, reps)).sum(1)
        if self.uasc_level_ is not None:  # the other children's and UASC's (their own level)
            yearly = yearly + 12.0 * self.uasc_level_.draw(rng, len(reps))
        out["arrivals"] = {"per_year_next_12_months": r(np.median(yearly)),
                           "interval95": [r(np.percentile(yearly, 2.5)), r(np.percentile(yearly, 97.5))],
                           "trend_per_year": r(np.expm1(self.arrival_beta_[0, 1])),
                           "dispersion": r(self.arrival_dispersion_),
                           "level": {k: r(v) for k, v in self.arrival_level_.as_dict().items()},
                           "observed_by_month": {str(m): suppress_value(int(c)) for m, c in zip(
                               self.arrival_months_, self.arrival_counts_, strict=True)}}
        stations: dict[str, Any] = {}
        for k, s in enumerate(self.stations_):
            sh = self.shares(s)
            q = self.dur_q_[0, k * len(AGE_BANDS) * self.n_groups_ + 1]
            stations[s] = {
                "days_age_5_to_10": {"median": r(q[est.NQ // 2]), "q25": r(q[est.NQ // 4]), "q75": r(q[3 * est.NQ // 4])},
                "outcomes": {t: {"share": r(a), "interval95": [r(lo), r(hi)]}
                             for t, a, lo, hi in sh.itertuples(index=False)},
                "outcomes_by_fifth_of_days": self.shares_by_days(s),
            }
        out["stations"] = stations
        if self.n_groups_ > 1:  # the UASC group: its share of the entries, its shares and median days by station
            n_c, n_a = self.trans_.shape[2], len(AGE_BANDS)
            mix = self.entry_share_[0].reshape(len(self.stations_), 2, -1)
            assert self.uasc_level_ is not None
            out["uasc"] = {"share_of_entries": r(mix[:, 1].sum()),
                           "arrivals": {**{k: r(v) for k, v in self.uasc_level_.as_dict().items()},
                                        "observed_by_month": {str(m): suppress_value(int(c)) for m, c in zip(
                                            self.arrival_months_, self.uasc_counts_, strict=True)}},
                           "stations": {
                s: {"days_median_by_age_band": {b: r(self.dur_q_[0, k * 2 * n_a + n_a + a, est.NQ // 2])
                                                for a, b in enumerate(AGE_BANDS)},
                    "outcomes_16_plus_first_episode": {t: r(v) for t, v in zip(
                        self.targets_, self.trans_[0, k, n_c - 2], strict=True) if v > 0.0005}}
                for k, s in enumerate(self.stations_)}}
        out["care_leaver_share_after_care_at_18"] = r(self.care_leaver_share_[0])
        out["siblings"] = {"arrivals_design_effect": r(self.design_effect_), "mean_group_size": r(self.group_mean_),
                           "stations": {k: {"design_effect": r(a), "share_moving_together": r(c)}
                                        for k, a, c in zip(self.stations_, self.sibling_d_, self.together_,
                                                           strict=True)}}
        out["duration_variation_tau2"] = {s: r(v) for s, v in zip(self.stations_, self.duration_tau2_, strict=True)}
        out["share_discount_per_half_year"] = {"entry_mix": r(self.entry_discount_),
                                               **{s: r(v) for s, v in zip(self.stations_, self.share_discount_,
                                                                           strict=True)}}
        out["share_variation_rho"] = {"entry_mix": r(self.entry_rho_),
                                      **{s: r(v) for s, v in zip(self.stations_, self.share_rho_, strict=True)}}
        return out

    def save(self, path: str | Path, diagnostics: Disclosed | None = None) -> Path:
        """Write :meth:`to_dict` as YAML, headed by its method, data window and disclosure rule as comments;
        with ``diagnostics`` (:func:`cscflow.forecast.diagnostics.disclosed_diagnostics`) their table too, under
        ``diagnostics``, its own header as comments."""
        from cscflow.disclosure import PRIMARY, THRESHOLD

        head = [f"cscflow fitted model: {self.method_}",
                f"Data: fitted on the journeys from {self.obs_start_.date()} to {self.origin_.date()}",
                f"Disclosure control: counts of children 1 to {THRESHOLD - 1} shown as {PRIMARY}; shares and days "
                "are modelled (each next step's share shrunk to its station's, durations as quantiles)."]
        d = self.to_dict()
        if diagnostics is not None:
            head += [f"diagnostics: {line}" for line in diagnostics.header]
            d["diagnostics"] = [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                                for row in diagnostics.table.to_dict("records")]
        path = Path(path)
        path.write_text("".join(f"# {line}\n" for line in head)
                        + yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    @property
    def summary(self) -> str:
        """A few lines on the fit."""
        d = self.to_dict()
        return (f"{self.method_}\norigin {d['origin']}, observed from {d['observation_start']}, "
                f"{_count(d['children'])} children, {_count(d['stays'])} stays, {self.n_boot} bootstrap replicates\n"
                f"entries expected in the next 12 months: {d['arrivals']['per_year_next_12_months']:,.0f} "
                f"(95% {d['arrivals']['interval95'][0]:,.0f}-{d['arrivals']['interval95'][1]:,.0f})")


def _count(v: int | str) -> str:
    """A disclosed count as printed: thousands separated, or as disclosed ("<5")."""
    return f"{v:,}" if isinstance(v, int) else str(v)

