"""The fitted model's duration curves: Kaplan-Meier per station and (group, age band), with delayed entry.

A station's curve F is read from the stays begun in the observation window and from the stays already open at its
start (begun before it, ended after it or still open), each of these joining the risk set on the day it had reached
when the data begin (:func:`cscflow.forecast.estimate.km_quantiles` with ``entry``): so the long stays give the
curve its tail without the length bias of counting them from day 0. A period of care first seen part-way (its
start unknown: ``start_known`` False, :func:`cscflow.forecast.stays.load_stays`) is left out, as the leaving-care
curves leave it out. The bootstrap resamples children: a child seen in the window takes its weight there, the
children seen only before it are resampled among themselves.

>>> import pandas as pd
>>> stays = pd.DataFrame({"child_id": ["a", "b"], "start": pd.to_datetime(["2013-01-01", "2015-01-01"]),
...                       "end": pd.to_datetime(["2015-06-01", "2015-03-01"]), "start_known": True})
>>> late = late_stays(stays, in_window=np.array([False, True]), at_station=np.array([True, True]),
...                   obs_start=pd.Timestamp("2014-04-01"))
>>> late.tolist()
[True, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cscflow.forecast import estimate as est

#: fewer stays than this at a station in an age band: the station's durations of all ages are used
MIN_KM = 30


def late_stays(stays: pd.DataFrame, in_window: np.ndarray, at_station: np.ndarray,
               obs_start: pd.Timestamp) -> np.ndarray:
    """Which ``stays`` were already open at ``obs_start`` (begun before it, at a station, ended after it or still open)
    with a known start: those F takes with delayed entry."""
    known = stays["start_known"].to_numpy(dtype=bool) if "start_known" in stays else np.ones(len(stays), bool)
    open_then = (stays["end"].isna() | (stays["end"] > obs_start)).to_numpy()
    out: np.ndarray = ~in_window & at_station & known & open_then
    return out


@dataclass
class DurationStays:
    """The stays F is read from: the window's (first, in their order) then the late ones, with their days, whether
    each ended (a route, not the cap at 18), the day each joined the risk set (-1: from its start), station and
    durations' group (``cell // 2``); ``late_child`` the index of a late stay's child among the window's children
    (-1: seen only before the window), ``late_codes`` its index among those children (``n_late_only`` of them)."""

    days: np.ndarray
    ended: np.ndarray
    entry: np.ndarray
    station: np.ndarray
    group: np.ndarray
    late_child: np.ndarray
    late_codes: np.ndarray
    n_late_only: int

    @classmethod
    def build(cls, window: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], late: pd.DataFrame,
              late_fields: tuple[np.ndarray, np.ndarray, np.ndarray], children: pd.Index, origin: pd.Timestamp,
              obs_start: pd.Timestamp) -> DurationStays:
        """``window``: the window's stays' (days, ended, station, group); ``late``: the late stays, with their
        (ended, station, group) in ``late_fields``; ``children``: the window's children, in bootstrap order."""
        day = pd.Timedelta(days=1)
        l_days = ((late["end"].fillna(origin) - late["start"]) / day).to_numpy()
        l_entry = ((obs_start - late["start"]) / day).to_numpy()
        late_child = children.get_indexer(late["child_id"])
        codes, only = pd.factorize(late["child_id"].where(late_child < 0))
        (w_days, w_ended, w_st, w_grp), (l_ended, l_st, l_grp) = window, late_fields
        return cls(days=np.r_[w_days, l_days], ended=np.r_[w_ended, l_ended],
                   entry=np.r_[np.full(len(w_days), -1.0), l_entry], station=np.r_[w_st, l_st],
                   group=np.r_[w_grp, l_grp], late_child=late_child, late_codes=codes, n_late_only=len(only))

    def weights(self, child_w: np.ndarray, w_window: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        """Each stay's bootstrap weight: the window's ``w_window``, a late stay's child's ``child_w`` if seen in the
        window, else a draw among the children seen only before it (``rng`` None: replicate 0, all 1)."""
        n = self.n_late_only
        only = np.ones(n) if rng is None else np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        late = np.where(self.late_child >= 0, child_w[np.maximum(self.late_child, 0)] if len(child_w) else 0.0,
                        only[np.maximum(self.late_codes, 0)] if n else 0.0)
        out: np.ndarray = np.r_[w_window, late]
        return out

    def index_sets(self, n_stations: int, n_groups: int,
                   n_ages: int) -> tuple[list[np.ndarray], list[list[np.ndarray]], list[list[np.ndarray]]]:
        """Each station's stays sorted by days, by durations' group of cells within it and by group of children."""
        n_a = n_groups * n_ages
        by_station = [np.flatnonzero(self.station == k) for k in range(n_stations)]
        by_station = [ix[np.argsort(self.days[ix], kind="stable")] for ix in by_station]
        by_age = [[ix[self.group[ix] == a] for a in range(n_a)] for ix in by_station]
        by_group = [[ix[self.group[ix] // n_ages == g] for g in range(n_groups)] for ix in by_station]
        return by_station, by_age, by_group

    def curves(self, ix: np.ndarray, by_group: list[np.ndarray], by_age: list[np.ndarray],
               w: np.ndarray) -> np.ndarray:
        """One station's duration quantiles by (group, age band) (rows ``by_age``, each sorted by days): the
        Kaplan-Meier curve of the group and band's stays; under :data:`MIN_KM` of them, the group's of all ages,
        and under that the station's of all groups and ages."""
        def km(i: np.ndarray) -> np.ndarray:
            return est.km_quantiles(self.days[i], self.ended[i].astype(float), w[i], presorted=True,
                                    entry=self.entry[i])

        pooled = km(ix)
        n_a = len(by_age) // len(by_group)
        out = np.empty((len(by_age), est.NQ))
        for g, ig in enumerate(by_group):
            group = km(ig) if len(ig) >= MIN_KM and len(by_group) > 1 else pooled
            for a in range(n_a):
                ia = by_age[g * n_a + a]
                out[g * n_a + a] = km(ia) if len(ia) >= MIN_KM else group
        return out
