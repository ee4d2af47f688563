"""A synthetic county fitted to a workspace: the forecast model's journeys, simulated over the observed period.

:func:`fit_original` reads a workspace's stays and children, holds out a share of its children (for the
privacy report's distance-to-closest-record comparison) and fits the semi-Markov model of
:mod:`cscflow.forecast` on the rest, its arrivals scaled back to the whole LA. :func:`simulate_fitted` then
simulates children arriving by month (with the fitted trend and season; a burn-in of earlier years, at
the first observed year's level, fills the caseload), moving from station to station with the fitted
next-station shares and durations until they leave or the period ends, as a :class:`County` the synth
writers write in the formats LAs hold.

An arrival is a child seen before at the original's share of such entries (by station, age band and
repeat): the synthetic child who left closest to a gap drawn from the original's gaps, of the arrival's age
band. Journeys end at 18 (a care leaver's at 21; care ended at 18 is followed by a care leaver's stay with the
fitted share). Birth dates are drawn
afresh: ages at entry from the original's ages in the same band, jittered, to a day. Sex, ethnicity,
disability and UASC are drawn from the original's shares, independently of the journey; names from the
synth's name lists. Only stations that are stages (the England map's) can be written.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.forecast.stays import AGE_BANDS
from cscflow.synth.county import CHILD_COLUMNS, JOURNEY_COLUMNS, County

if TYPE_CHECKING:
    from cscflow.forecast.model import ForecastModel
    from cscflow.workspace.protocol import WorkspaceLike

#: years simulated before the observed period, so that long stays (care) are under way when it begins
BURN_IN_YEARS = 6
_BANDS = np.array([0.0, 5.0, 11.0, 16.0, 18.0])
_NO_NEED = ("contact", "early_help")


@dataclass
class Original:
    """The workspace's stays (cut at the origin), children and the children held out of the fit."""

    stays: pd.DataFrame
    children: pd.DataFrame
    stations: list[str]
    exits: list[str]
    obs_start: pd.Timestamp
    origin: pd.Timestamp
    la: str
    holdout: np.ndarray  # child ids held out of the fit
    exit_outcomes: frozenset[str] = frozenset()  # outcomes the map reads as exits (not written for a next stay)
    returning: np.ndarray | None = None  # (stations, cells): share of entries by a child seen before
    gaps: np.ndarray | None = None  # days from a child's last stay's end to its next entry
    #: [entry not reaching a referral, reaching one]: share of such returning entries whose child was referred before
    referred_before: tuple[float, float] = (0.0, 0.0)
    #: the same two kinds of returning entry: days since the child's previous stay ended
    deep_gaps: tuple[np.ndarray, np.ndarray] | None = None


def fit_original(ws: WorkspaceLike, pmap: str = "england", holdout: float = 0.2,
                 seed: int = 0) -> tuple[ForecastModel, Original]:
    """Fit the model on ``ws`` without a random ``holdout`` share of its children (arrivals scaled back)."""
    from cscflow.forecast.model import ForecastModel, month_end_floor
    from cscflow.forecast.stays import load_stays, observation_start
    from cscflow.journeys import data_end, load_map
    from cscflow.model.stages import STAGES

    origin = month_end_floor(data_end(ws))
    pm = load_map(pmap, ws)
    stays, stations, exits = load_stays(ws, pm, origin)
    odd = [s for s in stations if s not in STAGES]
    if odd:
        raise AnalysisError(f"the map's stations {', '.join(odd)} are not stages: they cannot be written as LA files",
                            hint="fit the synthetic data on the england map (--map england)")
    kids = ws.execute(ws.table("children").select("child_id", "la", "sex", "ethnicity", "birth_month",
                                                  "disability", "uasc")).drop_duplicates("child_id")
    ids = np.asarray(sorted(stays["child_id"].unique()), dtype=object)
    rng = np.random.default_rng([seed, 7])
    held = ids[rng.random(len(ids)) < holdout]
    train = ~stays["child_id"].isin(set(held))
    obs = observation_start(ws)
    fit_stays = stays[train].copy()
    fit_stays.attrs["origin"] = origin
    # the shares by cell over the whole window (no repeat look-back): the synthetic data reproduce the original
    # as it reads, early first episodes that were repeats included, not the forecast's steadier recent cells; no
    # UASC group (UASC is drawn from the original's share, independently of the journey: _attributes)
    model = ForecastModel(n_boot=1, seed=seed, repeat_lookback=0, drift=False,
                          uasc=False).fit_stays(fit_stays, stations, exits, obs)
    entries = stays["entry"] & (stays["start"] >= obs)
    ratio = entries.sum() / max(int((entries & train).sum()), 1)
    model.arrival_beta_[:, 0] += np.log(ratio)  # the intercept: arrivals of the whole LA, not of the fitted part
    la = str(kids["la"].dropna().iloc[0]) if kids["la"].notna().any() else "000"
    returning, gaps = _returns(stays[train], stations, obs)
    return model, Original(stays, kids, stations, exits, pd.Timestamp(obs), origin, la, held,
                           frozenset(pm.outcome_map), returning, gaps, *_referred_before(stays[train], obs))


def _referred_before(stays: pd.DataFrame, obs: pd.Timestamp) -> tuple[tuple[float, float],
                                                                      tuple[np.ndarray, np.ndarray]]:
    """Among a returning child's entries begun from ``obs`` (each a journey up to the next exit), by whether the
    journey reaches a referral: the share whose child had reached a referral before, and the days since the
    child's previous stay ended."""
    s = stays.sort_values(["child_id", "start"], kind="stable")
    prev_end = s.groupby("child_id")["end"].shift()
    journey = s.groupby("child_id")["entry"].cumsum()
    deep = (s["station"] == "referral").groupby([s["child_id"], journey]).transform("max").astype(bool)
    first = s["entry"].to_numpy()
    j = pd.DataFrame({"child": s["child_id"].to_numpy()[first], "deep": deep.to_numpy()[first],
                      "start": s["start"].to_numpy()[first], "prev_end": prev_end.to_numpy()[first]})
    j["before"] = j.groupby("child")["deep"].transform(lambda x: x.shift(fill_value=False).cummax()).astype(bool)
    j["back"] = j.groupby("child").cumcount() > 0
    r = j[j["back"] & (j["start"] >= obs)]
    out = [float(r.loc[r["deep"] == d, "before"].mean()) if (r["deep"] == d).any() else 0.0 for d in (False, True)]
    gap = ((r["start"] - r["prev_end"]) / pd.Timedelta(days=1)).clip(lower=0)
    gaps = [gap[(r["deep"] == d) & gap.notna()].to_numpy(dtype=float) for d in (False, True)]
    return (out[0], out[1]), (gaps[0], gaps[1])


def _returns(stays: pd.DataFrame, stations: list[str], obs: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Per (station, cell) the share of entries by a child with an earlier stay, and the days between that
    earlier stay's end and the entry."""
    s = stays.sort_values(["child_id", "start"], kind="stable")
    prev_end = s.groupby("child_id")["end"].shift()
    seen = s.groupby("child_id").cumcount() > 0
    e = s["entry"] & (s["start"] >= obs) & s["station"].isin(stations)
    st = s.loc[e, "station"].map({x: i for i, x in enumerate(stations)}).to_numpy()
    cell = (s.loc[e, "age"].to_numpy().astype(int) * 2 + s.loc[e, "repeat"].to_numpy().astype(int))
    n_c = 2 * len(AGE_BANDS)
    tot = np.bincount(st * n_c + cell, minlength=len(stations) * n_c).astype(float)
    ret = np.bincount(st * n_c + cell, weights=seen[e].to_numpy().astype(float), minlength=len(stations) * n_c)
    share = np.where(tot > 0, ret / np.maximum(tot, 1), 0.0).reshape(len(stations), n_c)
    gap = ((s.loc[e & seen, "start"] - prev_end[e & seen]) / pd.Timedelta(days=1)).dropna().to_numpy()
    return share, np.clip(gap, 0, None)


def _arrival_rates(model: ForecastModel, months: pd.PeriodIndex) -> np.ndarray:
    """Expected arrivals a month: fitted (trend and season) within the fitted months, the first fitted year's
    level and season before them."""
    first = model.arrival_months_[0]
    eff = [m if m >= first else first + ((m.month - first.month) % 12) for m in months]
    rates: np.ndarray = model.arrivals_expected(pd.PeriodIndex(eff, freq="M"), 0)[0]
    return rates


def _journeys(model: ForecastModel, start: pd.Timestamp, end_day: float,
              rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stays, segments): every stay (segment, station, start day, end day or NaN, outcome) of every arrival, and
    each segment's first start, cell and last day (inf while open)."""
    from cscflow.forecast.estimate import route_part
    from cscflow.forecast.simulate import MAX_ROUNDS, _draw_days, _pick, route_shares

    months = pd.period_range(start.to_period("M"), model.origin_.to_period("M"), freq="M")
    n = rng.poisson(_arrival_rates(model, months))
    edges = np.array([(m.start_time - start).days for m in months] + [end_day + 1.0])
    mon = np.repeat(np.arange(len(months)), n)
    day = edges[mon] + rng.random(len(mon)) * (edges[mon + 1] - edges[mon])
    share = model.entry_share_[0]
    k = rng.choice(len(share), size=len(mon), p=share / share.sum())
    n_c, n_s = model.trans_.shape[2], len(model.stations_)
    n_a = n_c // 2
    st, cell = k // n_c, k % n_c
    seg = np.arange(len(mon))
    segments = pd.DataFrame({"segment": seg, "start": day, "station": st, "cell": cell, "last": np.inf,
                             "deep": False})
    # next steps by cell and by the part of the duration curve a stay ended in (the fit's routes by duration)
    cum = np.cumsum(route_shares(model.trans_[:1], model.route_ratio_[:1])[0], axis=-1)
    cum[..., -1] = 1.0
    n_part = cum.shape[2]
    rows = cum.reshape(-1, cum.shape[-1])  # row (station * n_cells + cell) * n_parts + part
    zeros = np.zeros(len(seg), dtype=np.int64)
    out = []
    for _ in range(MAX_ROUNDS):
        if len(seg) == 0:
            break
        lev = rng.random(len(seg))
        dur = _draw_days(model.dur_q_, zeros[: len(seg)], st * n_a + cell // 2, lev)
        end = day + dur
        open_ = end > end_day
        part = route_part(lev, n_part)
        nxt = _pick(rows, (st * n_c + cell) * n_part + part, rng.random(len(seg)))
        outcome = np.where(open_, -1, nxt)
        out.append(pd.DataFrame({"segment": seg, "station": st, "start": day, "end": np.where(open_, np.nan, end),
                                 "next": outcome}))
        left = ~open_ & (nxt >= n_s)
        segments.loc[seg[left], "last"] = end[left]
        go = ~open_ & (nxt < n_s)
        seg, st, cell, day = seg[go], nxt[go], cell[go], end[go]
    stays = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["segment", "station", "start", "end",
                                                                                "next"])
    if out:
        ref = model.stations_.index("referral") if "referral" in model.stations_ else -1
        segments["deep"] = segments["segment"].isin(stays.loc[stays["station"] == ref, "segment"].unique())
    return stays, segments


def _ages(original: Original) -> list[np.ndarray]:
    """The original's ages (years) at entry by age band (held-out children excluded)."""
    s = original.stays
    s = s[s["entry"] & s["age_years"].notna() & ~s["child_id"].isin(set(original.holdout))]
    return [s.loc[s["age"] == a, "age_years"].to_numpy(dtype=float) for a in range(4)]


def _children(segments: pd.DataFrame, original: Original, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(child index per segment, birth day per child) in days from the simulation's start. A segment begins
    with a child seen before at the original's share for its station and cell: the child who left closest to
    a gap drawn from the original's gaps (for journeys reaching a referral or not), of the segment's age band,
    under 18 and, first choice, referred before or not as often as the original's returning children were."""
    ages = _ages(original)
    order = np.argsort(segments["start"].to_numpy(), kind="stable")
    start = segments["start"].to_numpy()
    first = segments["station"].to_numpy()
    cell = segments["cell"].to_numpy()
    last = segments["last"].to_numpy()
    deep = segments["deep"].to_numpy()
    referred: list[bool] = []  # per child: reached a referral in an earlier journey
    share = original.returning if original.returning is not None else np.zeros((first.max() + 1, cell.max() + 1))
    gaps = original.gaps if original.gaps is not None and len(original.gaps) else np.array([365.0])
    back = rng.random(len(segments)) < share[first, cell]
    gap = rng.choice(gaps, size=len(segments))
    if original.deep_gaps is not None:  # the gap of the segment's kind (reaching a referral or not)
        for d, g in enumerate(original.deep_gaps):
            if len(g):
                gap[deep == bool(d)] = rng.choice(g, size=int((deep == bool(d)).sum()))
    child = np.full(len(segments), -1)
    births: list[float] = []
    free: list[tuple[float, int]] = []  # (day left, child) of children who left, sorted
    for i in order:
        band = int(cell[i]) // 2
        c = -1
        if back[i] and free:
            hi = bisect.bisect_left(free, (start[i], -1))
            at = min(bisect.bisect_left(free, (start[i] - gap[i], -1)), max(hi - 1, 0))
            near = sorted(range(max(0, at - 20), min(hi, at + 21)), key=lambda x: abs(x - at))
            want = rng.random() < original.referred_before[int(deep[i])]
            for j in [x for x in near if referred[free[x][1]] == want] + near:  # the wanted history first
                age = (start[i] - births[free[j][1]]) / 365.25
                if _BANDS[band] <= age < min(_BANDS[band + 1], 18.0):
                    c = free.pop(j)[1]
                    break
        if c < 0:
            pool = ages[band]
            age = float(rng.choice(pool)) if len(pool) else (_BANDS[band] + _BANDS[band + 1]) / 2
            age = float(np.clip(age + rng.uniform(-0.25, 0.25), _BANDS[band], _BANDS[band + 1] - 1e-3))
            c = len(births)
            births.append(start[i] - age * 365.25)
            referred.append(False)
        child[i] = c
        referred[c] = referred[c] or bool(deep[i])
        if np.isfinite(last[i]):
            bisect.insort(free, (float(last[i]), int(c)))
    return child, np.asarray(births)


def _cap_at_18(stays: pd.DataFrame, birth: np.ndarray, model: ForecastModel,
               rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Journeys end when the child turns 18 (a care leaver's at 21): a stay under way then ends that day (care:
    ``left_care_18``; others: ``closed``), later stays of the journey are dropped. Care ended at 18 is followed by
    a care leaver's stay with the model's care-leaver share (``rng`` given), as the forecast does
    (:mod:`cscflow.forecast.ages`): its days the care leavers' of the 16-plus band, to 21 at most."""
    t = model.targets_
    leaver = model.stations_.index("care_leaver") if "care_leaver" in model.stations_ else -1
    limit = birth + np.where(stays["station"].to_numpy() == leaver, 21.0, 18.0) * 365.25
    s = stays.assign(limit=limit)
    s = s[s["start"] < s["limit"]].copy()
    over = s["limit"] < s["end"].fillna(s["_end_day"])
    care = s["station"].to_numpy() == (model.stations_.index("looked_after") if "looked_after" in model.stations_
                                       else -2)
    out18 = t.index("left_care_18") if "left_care_18" in t else t.index("other")
    closed = t.index("closed") if "closed" in t else t.index("other")
    s.loc[over, "end"] = s.loc[over, "limit"]
    s.loc[over, "next"] = np.where(care[over.to_numpy()], out18, closed)
    # a journey stops at its first capped stay
    cut_at = s[over].groupby("segment")["start"].min()
    s = s[~(s["segment"].map(cut_at).notna() & (s["start"] > s["segment"].map(cut_at)))]
    s = s.drop(columns=["limit"])
    share = float(getattr(model, "care_leaver_share_", np.zeros(1))[0])
    if rng is None or leaver < 0 or share <= 0:
        return s
    left = s[(s["next"] == out18) & (s["station"] == t.index("looked_after"))] if "looked_after" in t else s[:0]
    left = left[rng.random(len(left)) < share]
    if left.empty:
        return s
    from cscflow.forecast.simulate import _draw_days

    n_a = model.trans_.shape[2] // 2
    row = np.full(len(left), leaver * n_a + n_a - 1)
    days = _draw_days(model.dur_q_, np.zeros(len(left), dtype=np.int64), row, rng.random(len(left)))
    start = left["end"].to_numpy(dtype=float)
    end = np.minimum(start + days, start + 3 * 365.25)
    still = end > left["_end_day"].to_numpy(dtype=float)
    cl = left.assign(station=leaver, start=start, end=np.where(still, np.nan, end),
                     next=np.where(still, -1, closed))
    return pd.concat([s, cl], ignore_index=True).sort_values(["segment", "start"], kind="stable")


def _attributes(n: int, original: Original, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Sex, ethnicity, disability and UASC drawn from the original's shares."""
    k = original.children

    def draw(col: str, default: Any) -> np.ndarray:
        v = k[col].dropna()
        if v.empty:
            return np.full(n, default, dtype=object)
        sh = v.astype(str).value_counts(normalize=True)
        return rng.choice(sh.index.to_numpy(dtype=object), size=n, p=sh.to_numpy())

    out = {"sex": draw("sex", "U"), "ethnicity": draw("ethnicity", "NOBT")}
    for flag in ("disability", "uasc"):
        rate = float(k[flag].astype("boolean").fillna(False).astype(bool).mean()) if len(k) else 0.0
        out[flag] = rng.random(n) < rate
    return out


def _names(sex: np.ndarray, ethnicity: np.ndarray, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    from cscflow.synth.names import group_of, lists

    ls = lists()
    fore, sur = [], []
    for s, e in zip(sex, ethnicity, strict=True):
        g = group_of(str(e))
        fore.append(str(rng.choice(ls["boys" if s == "M" else "girls"][g])))
        sur.append(str(rng.choice(ls["surnames"][g])))
    return fore, sur


def _parameters(model: ForecastModel) -> dict[str, Any]:
    """The fitted parameters written beside the files (``truth/parameters.yaml``): the model's YAML without the
    original's monthly counts, which are counts of real children."""
    d = model.to_dict()
    d["arrivals"].pop("observed_by_month", None)
    d.pop("children", None)
    d.pop("stays", None)
    return d


def simulate_fitted(model: ForecastModel, original: Original, seed: int = 0) -> County:
    """A :class:`County` over the original's observed period (stays begun in the burn-in kept when they
    reach into it), simulated from ``model``."""
    rng = np.random.default_rng([seed, 16])
    sim_start = (original.obs_start - pd.DateOffset(years=BURN_IN_YEARS)).to_period("M").start_time
    end_day = float((original.origin - sim_start).days)
    stays, segments = _journeys(model, sim_start, end_day, rng)
    child, births = _children(segments, original, rng)
    stays = _cap_at_18(stays.assign(_end_day=end_day), births[child[stays["segment"].to_numpy()]], model, rng)
    stays = stays.drop(columns="_end_day").reset_index(drop=True)
    first = float((original.obs_start - sim_start).days)
    stays = stays[stays["end"].isna() | (stays["end"] >= first)].reset_index(drop=True)
    seg = stays["segment"].to_numpy()
    used = np.unique(child[seg])
    new_id = np.full(len(births), -1)
    new_id[used] = np.arange(len(used))
    ids = np.array([f"SYN{i:07d}" for i in range(len(used))], dtype=object)
    stations = np.asarray(model.stations_, dtype=object)
    targets = np.asarray(model.targets_, dtype=object)
    nxt = stays["next"].to_numpy().astype(np.int64)
    outcome = pd.Series(targets[np.maximum(nxt, 0)], dtype=object)
    # open, "other" (nothing after) and a next stay whose stage the map reads as an exit outcome: no outcome
    alias = outcome.isin(original.exit_outcomes).to_numpy() & (nxt < len(stations))
    outcome = outcome.where((nxt >= 0) & (outcome != "other").to_numpy() & ~alias, None)
    stage = stations[stays["station"].to_numpy()]
    need = pd.Series(["N" + str(x).zfill(8) for x in seg], dtype=object).where(~np.isin(stage, _NO_NEED), None)

    def when(days: np.ndarray) -> pd.Series:
        return pd.Series(sim_start + pd.to_timedelta(np.floor(days), unit="D"))

    journeys = pd.DataFrame({
        "child_id": ids[new_id[child[seg]]],
        "need_id": need,
        "stage": stage, "start": when(stays["start"].to_numpy()), "end": when(stays["end"].to_numpy()),
        "outcome": outcome,
        "team": np.where(np.isin(stage, ("contact", "referral", "early_help")), "Front Door", "District"),
        "worker": None, "attrs": json.dumps({}),
    })[list(JOURNEY_COLUMNS)].sort_values(["child_id", "start"], kind="stable").reset_index(drop=True)
    att = _attributes(len(used), original, rng)
    fore, sur = _names(att["sex"], att["ethnicity"], rng)
    children = pd.DataFrame({
        "child_id": ids, "la": original.la, "sex": att["sex"], "ethnicity": att["ethnicity"],
        "birth_date": when(births[used]), "disability": att["disability"], "uasc": att["uasc"], "upn": None,
        "surname": sur, "forenames": fore, "expected_birth_date": pd.NaT,
    })[list(CHILD_COLUMNS)]
    return County(la=original.la, start=original.obs_start.date(), end=original.origin.date(), children=children,
                  journeys=journeys, parameters={"fitted_from": "workspace", "burn_in_years": BURN_IN_YEARS,
                                                 "model": _parameters(model)}, seed=seed)


__all__ = ["BURN_IN_YEARS", "Original", "fit_original", "simulate_fitted"]
