"""Siblings move together: how many children move as one, read from the stays that began and ended together.

The workspace holds no family. Children of one family are taken on together and mostly follow one route (in the
synthetic county siblings share their random draws from the referral on), so a month's counts vary more than
children moving one by one allow: by the design effect d = sum m^2 / sum m of the groups (sizes m) that move as
one. At a station, stays begun on one day that lasted the same days and went on to the same next station or
exit (one key k = (days, next)) moved together: siblings, or a coincidence. The coincidences are counted from
the stays begun on other days of the same weekday in the same 13 weeks: with n_t the stays begun on day t and
n_tk those of key k,

    S_t = sum_k n_tk (n_tk - 1)                                  (ordered pairs of day t with one key)
    c   = [sum_k n_ck (n_ck - 1) - sum_t S_t] / [n_c (n_c - 1) - sum_t n_t (n_t - 1)]
          (n_c, n_ck: the stays, and of key k, of the weekday's days in the 13 weeks, t among them:
           the chance that two stays begun on different days share a key)
    W_t = (S_t - c n_t (n_t - 1)) / (1 - c)                      (pairs of the same group)
    d   = 1 + sum_t W_t / sum_t n_t.

If groups share their key and groups draw keys independently, E[S_t | groups] = W_t (1 - c) + c n_t (n_t - 1)
exactly, whatever the day's count: a busy day (a bank holiday's aftermath, a batch of police notifications) adds
coincidences in proportion, not siblings. Periods with c above 0.5 (most stays of one key: the days, say, fixed
by a timescale) are left out: there siblings cannot be told from coincidences (and 1 / (1 - c) would magnify the
noise). A station's d_key (the stays that are not entries) is how much its
children move together. In simulation:

- arrivals come in groups of 1 + X children, X geometric of mean mu = (d - 1) / 2 (then sum m^2 / sum m =
  1 + 2 mu = d), d the d_key of all stays that are not entries, pooled over the stations (a family is taken on
  as one after its children's first contacts); a group draws one entry station and cell and one day, and its
  children differ only in their ages;
- a group shares its days and next step at each station after the entry station with probability
  pi_s = (d_key,s - 1) / (d - 1) (0 to 1; 1 under 200 stays: too few to tell) and otherwise splits for good (at a
  station where siblings' stays end apart, such as care, pi is about 0);
- the children open at the origin: those at one station since one day who entered the system together (same
  entry station and day) and, for a stay that is not itself the entry, came through the same station on the same
  day just before, are one group. At a busy front door unrelated children share such a key too (on the demo
  county groups of 10-20 at early help and assessment), so each group is kept with probability
  q_s = min(1, (d_key,s - 1) / P_s), P_s = sum m (m - 1) / sum m over the open groups at s (the pairs of a stay),
  and otherwise split: the pairs kept are the station's moved-together rate. Entries still open at the origin
  are not grouped.

>>> import numpy as np
>>> day = np.repeat(np.arange(100, 200), 2)  # every child arrives with a sibling, one pair a day
>>> days = np.repeat(np.arange(100.0), 2)      # each pair staying its own number of days
>>> round(design_effect(day, days, np.zeros(200, int)), 2)
2.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the days of the periods (of one weekday) whose stays begun on other days give the chance of one key
PERIOD_DAYS = 91
#: periods where two stays of different days share a key more often than this are left out
MAX_CHANCE = 0.5
#: the largest design effect used (groups of mean size 2.5)
MAX_D = 4.0
#: fewer closed stays at a station: its share of groups moving together is the pooled one
MIN_STAYS = 200


def excess_pairs(start_day: np.ndarray, days: np.ndarray, nxt: np.ndarray) -> tuple[float, float]:
    """(sum_t W_t, sum_t n_t) of closed stays at one station, each with its ``start_day``, ``days`` and ``nxt`` index
    (module docstring)."""
    s = np.floor(np.asarray(start_day, dtype=float)).astype(np.int64)
    if len(s) < 2:
        return 0.0, float(len(s))
    dd = np.round(np.asarray(days, dtype=float)).astype(np.int64)
    _, key = np.unique(np.asarray(nxt, dtype=np.int64) * (int(dd.max()) + 1) + dd, return_inverse=True)
    day = s - s.min()
    cell = (day // PERIOD_DAYS) * 7 + day % 7  # 13 weeks x weekday
    _, d_ix = np.unique(day, return_inverse=True)
    _, c_ix = np.unique(cell, return_inverse=True)

    def pairs(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The groups' first codes and their ordered pairs n (n - 1)."""
        both = np.stack(codes, axis=1)
        u, n = np.unique(both, axis=0, return_counts=True)
        return u[:, 0], (n * (n - 1)).astype(float)

    n_days = int(d_ix.max()) + 1
    n_cells = int(c_ix.max()) + 1
    g, p = pairs(d_ix, key)
    s_t = np.bincount(g, weights=p, minlength=n_days)               # S_t
    g, p = pairs(d_ix, d_ix)
    nn_t = np.bincount(g, weights=p, minlength=n_days)              # n_t (n_t - 1)
    day_cell = np.zeros(n_days, dtype=np.int64)
    day_cell[d_ix] = c_ix
    g, p = pairs(c_ix, key)
    same_c = np.bincount(g, weights=p, minlength=n_cells) - np.bincount(day_cell, weights=s_t, minlength=n_cells)
    n_c = np.bincount(c_ix, minlength=n_cells).astype(float)
    all_c = n_c * (n_c - 1) - np.bincount(day_cell, weights=nn_t, minlength=n_cells)
    c = np.where(all_c > 0, same_c / np.where(all_c > 0, all_c, 1.0), 1.0)[day_cell]
    told = c <= MAX_CHANCE  # most stays of one key: siblings cannot be told from coincidences
    w = (s_t[told] - c[told] * nn_t[told]) / (1.0 - c[told])
    n_t = np.bincount(d_ix, minlength=n_days)
    return float(w.sum()), float(n_t[told].sum())


def design_effect(start_day: np.ndarray, days: np.ndarray, nxt: np.ndarray) -> float:
    """d = 1 + same-group pairs / stays (:func:`excess_pairs`); 1 when there are none, between 1 and :data:`MAX_D`."""
    return _d(*excess_pairs(start_day, days, nxt))


def _d(excess: float, n: float) -> float:
    return float(np.clip(1.0 + excess / n, 1.0, MAX_D)) if n > 0 else 1.0


def together(station: np.ndarray, start_day: np.ndarray, days: np.ndarray, nxt: np.ndarray, entry: np.ndarray,
             n_station: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(d_key, pi) per station (of the stays that are not entries) and the arrivals' d (pooled) of closed stays
    (module docstring)."""
    d_key, pi = np.ones(n_station), np.full(n_station, np.nan)
    sums = np.zeros((n_station, 2))
    for k in range(n_station):
        m = (station == k) & ~entry
        sums[k] = excess_pairs(start_day[m], days[m], nxt[m])
        d_key[k] = _d(*sums[k])
    d = _d(*sums.sum(0))
    for k in range(n_station):
        if sums[k, 1] >= MIN_STAYS:
            pi[k] = _share(d_key[k], d)
    return d_key, np.where(np.isnan(pi), 1.0, pi), d


def _share(d_key: float, d: float) -> float:
    """pi = (d_key - 1) / (d - 1), 0 to 1 (1 when the arrivals move one by one: nothing to split)."""
    return float(np.clip((d_key - 1.0) / (d - 1.0), 0.0, 1.0)) if d > 1.0 + 1e-9 else 1.0


def open_groups(stays: pd.DataFrame, open_rows: np.ndarray) -> np.ndarray:
    """A group number for each of the ``open_rows`` (positions in ``stays``, a child's stays in order): open stays
    at one station since one day whose children entered together and came through the same station the same
    day just before share a number; entries open at the origin are each their own group."""
    child = stays["child_id"].to_numpy()
    station = stays["station"].to_numpy(dtype=object)
    start = pd.to_datetime(stays["start"]).to_numpy()
    entry = stays["entry"].to_numpy(dtype=bool)
    n = len(stays)
    pos = np.arange(n)
    # the row of each stay's entry (the last entry of its child at or before it) and the stay just before
    last_entry = pd.Series(np.where(entry, pos, np.nan)).groupby(child).ffill().to_numpy()
    first_of_child = np.r_[True, child[1:] != child[:-1]] if n else np.zeros(0, bool)
    prev = np.where(first_of_child, -1, pos - 1)
    o = np.asarray(open_rows, dtype=np.int64)
    le = np.where(np.isnan(last_entry[o]), o, last_entry[o]).astype(np.int64)
    pv = prev[o]
    is_entry = (le == o) | (pv < 0)
    key = pd.DataFrame({"st": station[o], "start": start[o], "e_st": station[le], "e_start": start[le],
                        "p_st": np.where(pv >= 0, station[np.maximum(pv, 0)], None),
                        "p_start": np.where(pv >= 0, start[np.maximum(pv, 0)], start[o]),
                        "alone": np.where(is_entry, np.arange(len(o)), -1)})
    groups: np.ndarray = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()
    return groups.astype(np.int64)


def group_sizes(mean_size: float, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` group sizes 1 + X, X geometric with mean ``mean_size`` - 1."""
    if mean_size <= 1.0 + 1e-9:
        return np.ones(n, dtype=np.int64)
    sizes: np.ndarray = rng.geometric(1.0 / mean_size, n).astype(np.int64)
    return sizes


def shared_uniforms(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """One uniform draw per run of equal ``group`` numbers (a group's members are kept next to each other),
    repeated to its members."""
    if len(group) == 0:
        return np.zeros(0)
    first = np.r_[True, group[1:] != group[:-1]]
    idx = np.cumsum(first) - 1
    u: np.ndarray = rng.random(int(first.sum()))[idx]
    return u


def split(rng: np.random.Generator, group: np.ndarray, keep: np.ndarray, next_id: int) -> np.ndarray:
    """Groups kept with probability ``keep`` (per member: its station's pi; one draw per group) or split for good:
    each member of a split group gets its own number, from ``next_id`` on (members stay next to each other)."""
    if len(group) == 0:
        return group
    go = shared_uniforms(rng, group) >= keep
    out: np.ndarray = np.where(go, next_id + np.arange(len(group)), group)
    return out


def open_keep(station: np.ndarray, group: np.ndarray, d_key: np.ndarray) -> np.ndarray:
    """q_s per station: the chance that a group of the open table is kept (module docstring)."""
    q = np.ones(len(d_key))
    if len(group) == 0:
        return q
    size = np.bincount(group)[group].astype(float)  # each open stay's group size
    for k in np.unique(station):
        m = station == k
        pairs = float((size[m] - 1.0).sum()) / float(m.sum())  # sum m (m - 1) / sum m over the station's groups
        if pairs > 0:
            q[k] = float(np.clip((d_key[k] - 1.0) / pairs, 0.0, 1.0))
    return q
