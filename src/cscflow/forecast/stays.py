"""The stays a forecast model is fitted on: each child's timeline on a map, cut at the forecast origin.

A child's consecutive rows at one station (for example the 903 episodes of one period of care) are
one stay when each begins by the day the one before it ended; begun later, with no exit between, the row is a
return (the earlier stay left to "other" and this one is a re-entry). Each stay carries its station, start, end (``NaT`` while open at the origin), what came
next (a station, an exit, or ``None`` while open), the child's age band at its start, whether it is
a repeat (second or later episode of need), whether the child is an unaccompanied asylum-seeking child
(``uasc``: the children table's flag; unknown is not) and whether it is an **entry**: the child's first row,
or the first row after an exit (a re-entry). A child's rows at one instant are tidied first
(:mod:`cscflow.forecast.instants`): zero-length stays in the order of the map's lines, not of the
sources' file names, and an exit the child passed through into a stay begun at that instant dropped. Only stays begun on or after the observation start
(from which every stage is held by a source in full coverage, :func:`observation_start`) are
used for arrivals, transitions and durations: earlier stays are the length-biased tail of those that
lasted. Stays open at the origin are kept whatever their start: they are the caseload the forecast
starts from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.forecast.instants import tidy
from cscflow.journeys import load_map, timelines

if TYPE_CHECKING:
    from cscflow.journeys import ProcessMap
    from cscflow.workspace.protocol import WorkspaceLike

#: age bands at a stay's start (years): upper bounds, exclusive
AGE_BANDS = ("under_5", "5_to_10", "11_to_15", "16_plus")
_AGE_EDGES = np.array([5.0, 11.0, 16.0])
COLUMNS = ["child_id", "station", "start", "end", "next", "age", "age_years", "repeat", "entry", "uasc", "start_known"]


def age_band(age_years: np.ndarray) -> np.ndarray:
    """Index into :data:`AGE_BANDS` of each age in years (unknown ages go to the commonest band, 1)."""
    a = np.asarray(age_years, dtype=float)
    out = np.searchsorted(_AGE_EDGES, a, side="right")
    return np.where(np.isnan(a), 1, out).astype(np.int8)


def observation_start(ws: WorkspaceLike) -> pd.Timestamp:
    """The first day from which every stage's stays that began are all held: per stage, the earliest window
    start among the sources holding it (:func:`cscflow.journeys.windows.source_windows`; one source in full
    coverage is enough), then the latest of these over the stages.

    So a one-year Annex A does not cut four years of CIN census and SSDA903 returns (or an event log holding
    every stage) to one year: its stages are covered earlier by the other sources. A stage that only a short
    source holds (contacts only in Annex A) does shorten the window: arrivals there are complete from then.
    """
    from cscflow.journeys.windows import source_windows

    win = source_windows(ws)
    if win.empty:
        raise AnalysisError("the workspace holds no stays", hint="load LA files first: cscflow load WORKSPACE FILES")
    ep = ws.table("episodes")
    pairs = ws.execute(ep.select("source", "stage").distinct())
    per_stage = pairs.merge(win[["source", "start"]], on="source").groupby("stage")["start"].min()
    return pd.Timestamp(per_stage.max() if len(per_stage) else win["start"].max())


def load_stays(ws: WorkspaceLike, pmap: ProcessMap | str = "england",
               origin: pd.Timestamp | None = None) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The stays of ``ws`` on ``pmap`` cut at ``origin`` (default: the data's end), with the map's
    station ids and exit ids. Columns: :data:`COLUMNS` (``next`` null while open).

    ``start_known`` is False for a period of care first seen part-way (its first SSDA903 episode in the data is not
    the period's start, RNE other than S: :func:`cscflow.analytics.ready.periods_of_care`, the one place that rule
    is read): the stay's start is then only the first episode's, and its true start is earlier."""
    from cscflow.analytics.ready import periods_of_care

    pmap = load_map(pmap, ws)
    tl = ws.execute(timelines(ws, pmap).select("child_id", "seq", "station", "start", "end", "kind", "repeat"))
    children = ws.table("children")
    kids = ws.execute(children.select("child_id", "birth_month", *(["uasc"] if "uasc" in children.columns else [])))
    stations = [s["id"] for s in pmap.stations if s.get("zone") != "exit"]
    exits = [s["id"] for s in pmap.stations if s.get("zone") == "exit"]
    stays = cut(tl, kids, origin, pmap)
    per = periods_of_care(ws)
    unknown = per.loc[~per["origin_known"].astype(bool), ["child_id", "start"]]
    if len(unknown):
        key = pd.MultiIndex.from_arrays([unknown["child_id"].astype(str), pd.to_datetime(unknown["start"])])
        mine = pd.MultiIndex.from_arrays([stays["child_id"].astype(str), pd.to_datetime(stays["start"])])
        stays["start_known"] = ~mine.isin(key)
    return stays, stations, exits


def cut(tl: pd.DataFrame, kids: pd.DataFrame, origin: pd.Timestamp | None,
        pmap: ProcessMap | None = None) -> pd.DataFrame:
    """Merge consecutive same-station rows, mark entries and cut at ``origin`` (see the module doc); with
    ``pmap`` each child's rows at one instant are first tidied on it (:func:`cscflow.forecast.instants.tidy`)."""
    tl = tl.sort_values(["child_id", "seq"]).reset_index(drop=True)
    if pmap is not None:
        tl = tidy(tl, pmap)
    start = pd.to_datetime(tl["start"]).astype("datetime64[ns]")
    end = pd.to_datetime(tl["end"]).astype("datetime64[ns]")
    if origin is None:
        origin = max(start.max(), end.max())
    origin = pd.Timestamp(origin)
    keep = start <= origin
    tl, start, end = tl[keep].reset_index(drop=True), start[keep].reset_index(drop=True), end[keep].reset_index(drop=True)
    if tl.empty:  # nothing begun by the origin
        empty = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in ("start", "end") else object)
                              for c in COLUMNS})
        empty.attrs["origin"] = origin
        return empty
    child = tl["child_id"].to_numpy()
    station = tl["station"].to_numpy(dtype=object)
    is_exit = (tl["kind"] == "exit").to_numpy()
    new_child = np.r_[True, child[1:] != child[:-1]]
    prev_exit = np.r_[False, is_exit[:-1]] & ~new_child
    again = ~new_child & np.r_[False, station[1:] == station[:-1]] & ~is_exit & ~np.r_[False, is_exit[:-1]]
    # A row at the station of the row before it continues that stay when it begins by the day that one ended; begun
    # later, with no exit between, it is a return (a re-contact weeks after a contact whose outcome the source does
    # not hold, as Annex A's contacts): the earlier stay left to "other" and this one is a re-entry. Read as one
    # stay, the contacts of an Annex A year fell out of the arrivals the longer the year ran (the demo county's
    # arrivals halved over its last year, and every forecast from there fell with them).
    s_np, e_np = start.to_numpy(), end.to_numpy()
    gap = np.r_[False, s_np[1:] > e_np[:-1]]  # a missing end (NaT) is no gap
    same_as_prev = again & ~gap
    returned = again & gap
    first = np.flatnonzero(~same_as_prev)
    last = np.r_[first[1:] - 1, len(tl) - 1]
    agg = pd.DataFrame({"child_id": child[first], "station": station[first],
                        "start": s_np[first], "end": e_np[last], "is_exit": is_exit[first],
                        "entry": (new_child | prev_exit | returned)[first], "repeat": tl["repeat"].to_numpy()[first]})
    # next: the following group's station when it is the same child ("other" when that group is a return)
    nxt = agg["station"].shift(-1).where(~np.r_[returned[first][1:], False], "other")
    same = agg["child_id"].shift(-1) == agg["child_id"]
    agg["next"] = nxt.where(same, None)
    open_ = agg["end"].isna() | (agg["end"] > origin)
    agg.loc[open_, "end"] = pd.NaT
    agg.loc[open_, "next"] = None
    # a closed stay with nothing after it (no outcome on the map) leaves to the "other" exit
    agg.loc[~open_ & agg["next"].isna(), "next"] = "other"
    agg = agg[~agg["is_exit"]].drop(columns="is_exit")
    birth = kids.drop_duplicates("child_id").set_index("child_id")["birth_month"]
    b = pd.to_datetime(agg["child_id"].map(birth)).astype("datetime64[ns]")
    agg["age_years"] = ((agg["start"] - b).dt.days / 365.25).to_numpy()
    agg["age"] = age_band(agg["age_years"].to_numpy())
    agg["repeat"] = (agg["repeat"].fillna(1).to_numpy() > 1).astype(np.int8)
    flag = (kids.drop_duplicates("child_id").set_index("child_id")["uasc"] if "uasc" in kids
            else pd.Series(dtype=object))
    agg["uasc"] = agg["child_id"].map(flag).eq(True).to_numpy()  # unknown (null) is not UASC
    agg["start_known"] = True  # load_stays marks periods of care first seen part-way
    agg.attrs["origin"] = origin
    return agg[COLUMNS].reset_index(drop=True)
