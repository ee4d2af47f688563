"""A child's timeline rows at one instant, tidied for the forecast model (:func:`tidy`).

Two corrections, both where several sources meet on one day, so that a journey reads the same whichever
source holds which stage (the model is fitted over years in which the sources changed):

- **Order.** The timeline orders rows of the same instant by source (file name, row): a contact in an event
  log and the referral it led to, held by the CIN census, read referral -> contact -> assessment, with the
  referral as an arrival. The model then learns arrivals at the referral *and* contacts that go on to a
  referral, and counts those referrals twice (on the demo county 4,800 a year, a quarter of them). A
  child's zero-length stays at one instant (each with its exit row) are put in the order of the map's
  lines (:func:`flow_order`): contact before referral before strategy discussion.
- **Exits passed through.** A stay that ends at an exit while the child begins another stay at the same
  instant did not leave children's services: the exit is a source's label for the end of its stage (the
  CIN census has no "became a CIN plan" or "came into care" outcome for an assessment or a CP plan, an
  Annex A care row ends at the latest placement while the 903 carries the period of care on). The model
  takes exits as absorbing and re-entries as arrivals, so such an exit would turn a route (assessment ->
  CIN plan, CP plan -> care) into an exit and an arrival, and a period of care into two. These exit rows
  are dropped, unless the map draws a line from the exit into that station (left care at 18 -> care
  leaver on the England map: a real leaving, drawn as the map's own route).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from cscflow.journeys import ProcessMap


def flow_order(pmap: ProcessMap) -> dict[str, int]:
    """Each station's place in the order the map's lines run (contact before referral before assessment):
    a topological order of the lines' consecutive stations, ties (and any cycle) in the map's own order."""
    ids = [s["id"] for s in pmap.stations]
    pos = {s: i for i, s in enumerate(ids)}
    after: dict[str, set[str]] = {s: set() for s in ids}
    for a, b in line_steps(pmap):
        after[a].add(b)
    before = {s: sum(s in after[a] for a in ids) for s in ids}
    order: list[str] = []
    ready = sorted((s for s in ids if before[s] == 0), key=pos.__getitem__)
    while ready:
        s = ready.pop(0)
        order.append(s)
        for t in after[s]:
            before[t] -= 1
            if before[t] == 0:
                ready.append(t)
        ready.sort(key=pos.__getitem__)
    order += [s for s in ids if s not in order]  # a cycle: the rest in map order
    return {s: i for i, s in enumerate(order)}


def line_steps(pmap: ProcessMap) -> set[tuple[str, str]]:
    """The (from, to) pairs of stations (exits included) next to each other on one of the map's lines."""
    ids = {s["id"] for s in pmap.stations}
    steps: set[tuple[str, str]] = set()
    for line in pmap.lines:
        run = [s for s in line.get("stations", []) if s in ids]
        steps.update((a, b) for a, b in zip(run[:-1], run[1:], strict=True) if a != b)
    return steps


def tidy(tl: pd.DataFrame, pmap: ProcessMap) -> pd.DataFrame:
    """``tl`` (timeline rows sorted by child and seq: child_id, station, start, end, kind) with each instant's
    zero-length stays in :func:`flow_order` and the exits passed through dropped (see the module doc)."""
    return drop_passed_exits(instant_order(tl, flow_order(pmap)), line_steps(pmap))


def instant_order(tl: pd.DataFrame, flow: dict[str, int]) -> pd.DataFrame:
    """``tl`` with each child's zero-length stays at one instant, each with the exit row that follows it,
    put in ``flow`` order (stable); every other row keeps its place."""
    if tl.empty:
        return tl
    child = tl["child_id"].to_numpy()
    start = pd.to_datetime(tl["start"]).to_numpy()
    is_exit = (tl["kind"] == "exit").to_numpy()
    point = ~is_exit & (pd.to_datetime(tl["end"]).to_numpy() == start)
    same = np.r_[False, (child[1:] == child[:-1]) & (start[1:] == start[:-1])]
    unit = point | (is_exit & same & np.r_[False, point[:-1]])  # a zero-length stay and its exit
    block_head = unit & ~(same & np.r_[False, unit[:-1]])
    if not (unit & ~block_head).any():
        return tl  # no instant holds two zero-length stays
    pos = np.arange(len(tl))
    head_pos = np.maximum.accumulate(np.where(block_head, pos, 0))
    rank = tl["station"].map(flow).to_numpy(dtype=float)
    rank = np.where(np.isnan(rank), len(flow), rank)
    stay_rank = pd.Series(np.where(point, rank, np.nan)).ffill().to_numpy()  # an exit goes with its stay
    order = np.lexsort((pos, np.where(unit, stay_rank, 0.0), np.where(unit, head_pos, pos)))
    return tl.iloc[order].reset_index(drop=True)


def drop_passed_exits(tl: pd.DataFrame, keep: AbstractSet[tuple[str, str]] = frozenset()) -> pd.DataFrame:
    """``tl`` without the exit rows followed, at the same instant, by a stay of the same child (unless the
    (exit, station) pair is in ``keep``)."""
    if tl.empty:
        return tl
    child = tl["child_id"].to_numpy()
    start = pd.to_datetime(tl["start"]).to_numpy()
    station = tl["station"].to_numpy(dtype=object)
    kind = tl["kind"].to_numpy(dtype=object)
    nxt_same = np.r_[(child[1:] == child[:-1]) & (start[1:] == start[:-1]) & (kind[1:] != "exit"), False]
    passed = (kind == "exit") & nxt_same
    if keep and passed.any():
        ix = np.flatnonzero(passed)
        kept = np.fromiter(((station[i], station[i + 1]) in keep for i in ix), dtype=bool, count=len(ix))
        passed[ix[kept]] = False
    return tl[~passed].reset_index(drop=True) if passed.any() else tl
