"""The timeline of a process event log: every drawn stay zero-length, so nothing overlaps.

The general rules of :mod:`cscflow.journeys.timeline` then reduce to ordering the events (start,
then source order) with each exit right after its stay: one sorted pass. What the data holds decides
how lean that pass can be (:class:`Shape`, one query): without needs there are no episode-of-need
ranks to join (``repeat`` is 1), without exit outcomes no exit rows, with a map that draws each stage
as itself no stage-to-station lookup, and columns that are null in every drawn stay are not carried
through the sort. The stored table holds only what varies; :func:`widen` puts back the constant
columns as literals, so callers see the full timeline columns.

>>> import tempfile, pandas as pd
>>> from cscflow import Workspace
>>> from cscflow.journeys import load_map
>>> ws = Workspace(tempfile.mkdtemp(), la="999")
>>> _ = ws.write("episodes", pd.DataFrame({"child_id": ["c", "c"], "stage": ["referral", "contact"],
...     "start": pd.to_datetime(["2024-01-03", "2024-01-02"]), "end": pd.to_datetime(["2024-01-03", "2024-01-02"]),
...     "source": "x", "source_row": [1, 2]}))
>>> s = shape(ws, load_map("england"))
>>> s.points, s.needs, s.exits, s.nulls
(True, False, False, ('need_id', 'outcome', 'team', 'episode_id'))
>>> ws.execute(widen(points_timeline(ws, load_map("england"), s), s))[["station", "seq"]].values.tolist()
[['contact', 1], ['referral', 2]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import ibis

from cscflow.journeys.maps import ProcessMap
from cscflow.journeys.timeline_columns import _ORDER, COLUMNS, EXTRA
from cscflow.journeys.timeline_columns import need_ranks as _need_ranks

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

#: Columns a drawn stay may leave null throughout (then not stored).
NULLABLE = ("need_id", "outcome", "team", "episode_id")


class Shape(NamedTuple):
    """What the drawn stays hold (decides the SQL; part of the compiled-SQL cache key)."""

    points: bool  #: every drawn stay is zero-length and closed
    needs: bool  #: some drawn stay has a need
    exits: bool  #: some closed drawn stay's outcome is one of the map's exits
    identity: bool  #: the map draws every stage it knows as a station of the same id
    all_drawn: bool  #: every stay's stage is drawn
    nulls: tuple[str, ...]  #: NULLABLE columns null in every drawn stay
    one_source: bool = False  #: every stay comes from one source (then it does not order ties)


FULL = Shape(False, True, True, False, False, ())


def shape(ws: WorkspaceLike, pmap: ProcessMap) -> Shape:
    """The :class:`Shape` of ``ws``'s episodes on ``pmap`` (one aggregate query, grouped by stage and outcome:
    few groups, so the map's lists are applied to the groups, not to every row)."""
    ep = ws.table("episodes")
    g = ws.execute(ep.group_by(["stage", "outcome"]).aggregate(
        n=ep.count(),
        longer=ibis.ifelse(ep.end.isnull() | (ep.end != ep.start), 1, 0).sum(),
        closed=ep.end.count(),
        need_id=ep.need_id.count(), team=ep.team.count(), episode_id=ep.episode_id.count(),
        s_min=ep.source.min(), s_max=ep.source.max(),
    ))
    drawn = g["stage"].isin(list(pmap.stage_map)) & g["stage"].notna()
    d = g[drawn]
    count = {
        "undrawn": int(g.loc[~drawn, "n"].sum()),
        "longer": int(d["longer"].sum()),
        "exits": int(d.loc[d["outcome"].isin(list(pmap.outcome_map)), "closed"].sum()),
        "outcome": int(d.loc[d["outcome"].notna(), "n"].sum()),
        **{c: int(d[c].sum()) for c in ("need_id", "team", "episode_id")},
    }
    sources = set(d["s_min"].dropna()) | set(d["s_max"].dropna())
    identity = all(k == v for k, v in pmap.stage_map.items())
    return Shape(points=count["longer"] == 0, needs=count["need_id"] > 0, exits=count["exits"] > 0,
                 identity=identity, all_drawn=count["undrawn"] == 0,
                 nulls=tuple(c for c in NULLABLE if count[c] == 0), one_source=len(sources) <= 1)


def points_timeline(ws: WorkspaceLike, pmap: ProcessMap, s: Shape = FULL) -> ibis.Table:
    """The timeline rows of an all-zero-length log, with only the columns that vary under ``s``
    (see :func:`widen`). The same rows as the general engine (tests/journeys/test_timeline.py).
    """
    ep = ws.table("episodes")
    keep = [c for c in NULLABLE if c not in s.nulls]
    e = ep.select("child_id", "stage", "start", *_ORDER[:2], *keep)
    if s.identity:  # each stage is its own station: a filter, not a lookup
        e = e.mutate(station=e.stage)
        if not s.all_drawn:
            e = e.filter(e.stage.isin(list(pmap.stage_map)))
    else:
        e = e.mutate(station=e.stage.substitute(pmap.stage_map, else_=ibis.null("string")))
        e = e.filter(e.station.notnull())
    if "episode_id" not in keep:
        e = e.mutate(episode_id=ibis.null("string"))
    cols = ["child_id", "stage", "start", "source", "source_row", "episode_id", *[c for c in keep if c != "episode_id"]]
    rows = e.select(*cols, station=e.station, kind=ibis.literal("stay"), sub=ibis.literal(0))
    if s.exits:
        e = e.mutate(exit=e.outcome.substitute(pmap.outcome_map, else_=ibis.null("string")))
        ex = e.filter(e.exit.notnull())
        rows = rows.union(ex.select(*cols, station=ex.exit, kind=ibis.literal("exit"), sub=ibis.literal(1)))
    # Ties in time keep source order; a single source or an all-null episode_id orders nothing.
    order = [rows.start, *([] if s.one_source else [rows.source]), rows.source_row,
             *([] if "episode_id" in s.nulls else [rows.episode_id]), *([rows.sub] if s.exits else [])]
    extra: dict[str, ibis.Value] = {}
    if s.needs:
        nr = _need_ranks(ws)
        rows = rows.left_join(nr, [rows.child_id == nr.n_child, rows.need_id == nr.n_need])
        order = [rows[o.get_name()] for o in order]
        seen = rows.need_rank.max().over(ibis.window(group_by=rows.child_id, order_by=order, rows=(None, 0)))
        extra["repeat"] = ibis.coalesce(rows.need_rank, seen.fill_null(0) + 1).cast("int64")
    w = ibis.window(group_by=rows.child_id, order_by=order)
    rows = rows.mutate(
        seq=ibis.row_number().over(w) + 1,
        next_station=rows.station.lead().over(w),
        next_start=rows.start.lead().over(w),
        **extra,
    )
    stored = ["child_id", "seq", "station", "start", *(["repeat"] if s.needs else []),
              *(["kind", "stage"] if s.exits or not s.identity else []), *keep, "next_station", "next_start"]
    return rows.select(*stored)


def widen(t: ibis.Table, s: Shape) -> ibis.Table:
    """The stored lean rows ``t`` with the constant columns put back: the full timeline columns."""
    fill: dict[str, ibis.Value] = {"end": t.start}
    if "repeat" not in t.columns:
        fill["repeat"] = ibis.literal(1, type="int64")
    if "kind" not in t.columns:
        fill["kind"] = ibis.literal("stay")
    if "stage" not in t.columns:
        fill["stage"] = t.station
    for c in NULLABLE:
        if c not in t.columns:
            fill[c] = ibis.null("string")
    return t.mutate(**fill).select(*COLUMNS, *EXTRA, "next_station", "next_start")
