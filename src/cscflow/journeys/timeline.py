"""Each child's state timeline: the stays on a process map, in order, overlaps resolved.

Rules (docs/data-model.md says what a stay is):

- A stay of a stage the map leaves out is dropped; the others are drawn at their station.
- A stay that continues (its outcome is its own stage: SSDA903's X1, a new episode the same day) and the
  child's next stay at that station, begun when it ends, are one stay (a period of care).
- Stays that overlap are resolved by the map's precedence: over any stretch of time the
  child is at the covering stay whose station ranks first (ties: the earlier stay). A stay
  interrupted by a higher-ranked one is split into pieces.
- Zero-length stays (start == end, e.g. contacts) are kept, unless they fall strictly inside
  a stay whose station ranks the same or higher (a contact during a CP plan is part of that
  plan); a kept zero-length stay of higher rank splits the stay it falls in.
- Open stays (end null) stay open: their ``end`` stays null; they are treated as lasting to
  the data's end date (:func:`data_end`, the latest start or end in ``episodes``).
- A stay whose outcome is one of the map's exits is followed by a zero-length row at that
  exit (``kind`` = "exit") at the stay's end.
- Order (``seq``): by start; at the same instant, exits of stays ending then, then
  zero-length stays, then stays that last; remaining ties in source order
  (``source``, ``source_row``, ``episode_id``), as process-mining tools keep them.
- ``repeat``: which episode of need the row belongs to (1 = the child's first, by the date
  the need began); rows without a need (contacts, early help) count as the next one
  (1 + the number of needs already begun).

>>> import tempfile, pandas as pd
>>> from cscflow import Workspace
>>> from cscflow.journeys import load_map
>>> ws = Workspace(tempfile.mkdtemp(), la="999")
>>> _ = ws.write("episodes", pd.DataFrame({"episode_id": ["1", "2"], "child_id": ["c", "c"],
...     "stage": ["contact", "referral"], "start": pd.to_datetime(["2024-01-02", "2024-01-02"]),
...     "end": pd.to_datetime(["2024-01-02", "2024-01-09"]), "outcome": ["referral", "nfa"],
...     "need_id": [None, "n1"], "source": "x", "source_row": [1, 2]}))
>>> ws.execute(timelines(ws, load_map("england")))[["station", "seq", "repeat"]].values.tolist()
[['contact', 1, 1], ['referral', 2, 1], ['nfa', 3, 1]]
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import os
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.journeys import timeline_points as tp
from cscflow.journeys import timeline_store as store
from cscflow.journeys.maps import ProcessMap, load_map
from cscflow.journeys.stored_facts import remembered
from cscflow.journeys.timeline_columns import _ORDER, COLUMNS, EXTRA
from cscflow.journeys.timeline_columns import need_ranks as _need_ranks
from cscflow.journeys.timeline_store import PREFIX as STORED_PREFIX

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike



def episode_stats(ws: WorkspaceLike) -> dict[str, Any]:
    """One aggregate over ``episodes``: rows, first and last start, last end, sum of source rows, last child.

    It tells the data's span and serves as the fingerprint of the episodes (a cached timeline is reused
    while it is unchanged). A read-only workspace cannot change under its connection, so there the
    answer is kept for the connection's life.
    """
    if ws.read_only:
        stats: dict[str, Any] = ws.cached("episode_stats", None, lambda: _episode_stats(ws), size=1)
        return stats
    return _episode_stats(ws)


#: The stats' SQL per dialect: compiling the expression costs more than running the query.
_STATS_SQL: dict[str, str] = {}


def _episode_stats(ws: WorkspaceLike) -> dict[str, Any]:
    if ws.dialect not in _STATS_SQL:
        from cscflow.model.tables import schema

        ep = ibis.table(schema("episodes"), name="episodes")
        _STATS_SQL[ws.dialect] = ibis.to_sql(
            ep.aggregate(n=ep.count(), s=ep.start.min(), e=ep.start.max(), f=ep.end.max(), r=ep.source_row.sum(),
                         c=ep.child_id.max()), dialect=ws.dialect)
    got = ws.sql(_STATS_SQL[ws.dialect])[0]
    row = dict(zip("nsefrc", got, strict=True))
    return {k: (pd.Timestamp(v) if k in "sef" and v is not None else v) for k, v in row.items()}


def _stamp(value: Any) -> pd.Timestamp | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def data_end(ws: WorkspaceLike) -> pd.Timestamp:
    """The data's end date: the latest start or end of any stay in ``episodes``."""
    row = episode_stats(ws)
    values = [v for v in (_stamp(row["e"]), _stamp(row["f"])) if v is not None]
    if not values:
        raise AnalysisError(f"workspace {ws.path} has no episodes", hint="load data first (`cscflow load`)")
    return max(values)


def data_start(ws: WorkspaceLike) -> pd.Timestamp:
    """The earliest start of any stay in ``episodes``."""
    v = _stamp(episode_stats(ws)["s"])
    if v is None:
        raise AnalysisError(f"workspace {ws.path} has no episodes", hint="load data first (`cscflow load`)")
    return v


def _ts(value: Any) -> ibis.Value:
    return ibis.literal(pd.Timestamp(value).to_pydatetime(), type="timestamp")


def mapped_stays(ws: WorkspaceLike, pmap: ProcessMap, end: _dt.datetime | pd.Timestamp | None = None) -> ibis.Table:
    """The episodes of the stages ``pmap`` draws, with ``station``, ``rank``, ``end_eff``, ``exit`` and ``k``.

    ``k`` numbers a child's stays by (start, end, source order); ``alone`` marks stays that overlap
    no other; ``new`` marks the first stay of each group of overlapping stays.
    """
    ep = ws.table("episodes")
    ranks = {s: i for i, s in enumerate(pmap.precedence)}
    e = ep.select("child_id", "need_id", "stage", "start", "end", "outcome", "team", "episode_id", *_ORDER[:2])
    e = e.mutate(station=e.stage.substitute(pmap.stage_map, else_=ibis.null("string")))
    e = _continued(e.filter(e.station.notnull()))
    if end is not None:
        last = _ts(end)
    else:  # the data's end date, computed in the engine so that the query does not depend on the data
        span = ep.aggregate(_last=ibis.greatest(ep.start.max(), ep.end.max().fill_null(ep.start.max())))
        e = e.cross_join(span)
        last = e._last
    end_eff = ibis.greatest(e.end.fill_null(last), e.start)
    e = e.mutate(
        rank=e.station.substitute(ranks, else_=ibis.null("int64")).cast("int64"),
        is_open=e.end.isnull(),
        end_eff=end_eff,
        exit=ibis.ifelse(
            e.end.isnull(), ibis.null("string"), e.outcome.substitute(pmap.outcome_map, else_=ibis.null("string"))
        ),
    )
    e = e.mutate(is_point=e.end_eff == e.start)
    order = [e.start, e.end_eff, *(e[c] for c in _ORDER)]
    w = ibis.window(group_by=e.child_id, order_by=order)
    prev = ibis.window(group_by=e.child_id, order_by=order, rows=(None, -1))
    # One sort: k, the latest end before each stay, and the next start. A stay overlaps nothing
    # (``alone``) when it starts after every earlier stay ended and the next starts after it ends.
    e = e.mutate(k=ibis.row_number().over(w), prev_end=e.end_eff.max().over(prev), next_start=e.start.lead().over(w))
    e = e.mutate(
        new=e.prev_end.isnull() | (e.start >= e.prev_end),
        alone=(e.prev_end.isnull() | (e.start >= e.prev_end)) & (e.next_start.isnull() | (e.next_start >= e.end_eff)),
    )
    return e.drop("next_start", *(["_last"] if "_last" in e.columns else []))


def _continued(e: ibis.Table) -> ibis.Table:
    """Stays that continue one another made one: a stay whose outcome is its own stage (it continues: SSDA903's
    X1, "episode ceases, and new episode begins on same day") and the child's next stay at the same station,
    begun when it ends, are one stay at that station (a period of care, however many placement or legal-status
    episodes it holds), from the first's start to the last's end, with the first's identity (episode, need,
    source row) and the last's outcome and team. Without this, half the moves out of care were "to care" and a
    stay in care lasted an episode."""
    cols = e.columns
    # only a child's stays at a station where one of them continues are looked at (the rest pass as they are)
    cont = e.filter(e.outcome == e.stage).select(c_child=e.child_id, c_station=e.station).distinct()
    on = [e.child_id == cont.c_child, e.station == cont.c_station]
    rest, c = e.anti_join(cont, on), e.semi_join(cont, on)
    order = [c.start, c.end, *(c[k] for k in _ORDER)]
    w = ibis.window(group_by=[c.child_id, c.station], order_by=order)
    c = c.mutate(_joins=((c.outcome.lag().over(w) == c.stage.lag().over(w))
                         & (c.end.lag().over(w) == c.start)).fill_null(False))
    order = [c.start, c.end, *(c[k] for k in _ORDER)]
    w = ibis.window(group_by=[c.child_id, c.station], order_by=order)
    upto = ibis.window(group_by=[c.child_id, c.station], order_by=order, rows=(None, 0))  # a running count
    c = c.mutate(_first=~c._joins, _grp=(~c._joins).cast("int64").sum().over(upto),
                 _last=~c._joins.lead().over(w).fill_null(False))
    g = c.group_by(["child_id", "station", "_grp"]).aggregate(
        stage=c.stage.max(), start=c.start.min(), end=c.end.max(where=c._last),
        outcome=c.outcome.max(where=c._last), team=c.team.max(where=c._last),
        need_id=c.need_id.max(where=c._first), episode_id=c.episode_id.max(where=c._first),
        source=c.source.max(where=c._first), source_row=c.source_row.max(where=c._first))
    return rest.union(g.select(*cols))


_PIECE = ["child_id", "cluster", "k", "p_start", "p_end", "is_point"]
_K = 1_000_000_000  # more stays than any child has: rank * _K + k sorts by rank, then k


def _resolve(multi: ibis.Table) -> ibis.Table:
    """Pieces (child_id, cluster, k, p_start, p_end, is_point) of stays in clusters that overlap."""
    m = multi.select("child_id", "cluster", "k", "start", "end_eff", "rank", "is_point")
    bounds = m.select("child_id", "cluster", t=m.start).union(m.select("child_id", "cluster", t=m.end_eff))
    bounds = bounds.distinct()
    bw = ibis.window(group_by=[bounds.child_id, bounds.cluster], order_by=bounds.t)
    seg = bounds.mutate(t_next=bounds.t.lead().over(bw))
    seg = seg.filter(seg.t_next.notnull())
    iv = m.filter(~m.is_point).rename(i_cluster="cluster", i_child="child_id")
    cand = seg.join(
        iv,
        [seg.child_id == iv.i_child, seg.cluster == iv.i_cluster, iv.start <= seg.t, iv.end_eff >= seg.t_next],
    )
    # The covering stay that ranks first (ties: the earlier start, then k). Within a child k follows start,
    # so (rank, start, k) orders as (rank, k): one hash aggregate of min(rank * K + k) instead of a sort.
    best = (cand.rank * _K + cand.k).min()
    segs = cand.group_by(["child_id", "cluster", "t", "t_next"]).aggregate(best=best)
    segs = segs.select(
        "child_id", "cluster", k=segs.best % _K, p_start=segs.t, p_end=segs.t_next, is_point=ibis.literal(False)
    )
    pts = m.filter(m.is_point)
    iv2 = m.filter(~m.is_point).rename(i_cluster="cluster", i_child="child_id", i_start="start",
                                        i_end="end_eff", i_rank="rank", i_k="k", i_point="is_point")
    kept = pts.anti_join(
        iv2,
        [pts.child_id == iv2.i_child, pts.cluster == iv2.i_cluster, iv2.i_start < pts.start,
         iv2.i_end > pts.start, iv2.i_rank <= pts.rank],
    )
    kept = kept.select("child_id", "cluster", "k", p_start=kept.start, p_end=kept.start, is_point=ibis.literal(True))
    rows = segs.union(kept)
    # Merge consecutive segments of the same stay (gaps and islands).
    phase = ibis.ifelse(rows.is_point, 1, 2)
    order = [rows.p_start, phase, rows.k]
    rows = rows.mutate(
        island=ibis.row_number().over(ibis.window(group_by=[rows.child_id, rows.cluster], order_by=order))
        - ibis.row_number().over(ibis.window(group_by=[rows.child_id, rows.cluster, rows.k], order_by=order))
    )
    return rows.group_by(["child_id", "cluster", "k", "island", "is_point"]).aggregate(
        p_start=rows.p_start.min(), p_end=rows.p_end.max()
    ).drop("island")


_MEMO_SIZE = 6


def cached_tables(ws: WorkspaceLike) -> list[str]:
    """Names of the tables behind the timelines cached on ``ws`` (least recently used first)."""
    return [name for _tl, name in ws.cached_values("timelines")]


def _fingerprint(ws: WorkspaceLike) -> tuple[str, ...]:
    return tuple(str(v) for v in episode_stats(ws).values())


def timelines(
    ws: WorkspaceLike,
    pmap: ProcessMap | str = "england",
    where: dict[str, Any] | None = None,
    *,
    end: _dt.datetime | pd.Timestamp | None = None,
    cache: bool = True,
) -> ibis.Table:
    """The state timeline of every child on ``pmap`` as an Ibis table.

    Columns: child_id, need_id, repeat, seq, station, start, end (null = open), then kind
    ("stay" or "exit"), stage, outcome, team, episode_id, next_station and next_start (the child's
    next row, before any cohort filter). ``where`` takes the cohort filters
    of :mod:`cscflow.journeys.filters`; ``end`` overrides the data's end date. With ``cache``
    (the default) the timeline is computed once into a temporary table of the engine and reused
    while the episodes stay the same; ``cache=False`` returns the bare (lazy) expression.
    """
    pmap = load_map(pmap, ws)
    if not cache:
        out = _build(ws, pmap, end, cache=False)
    else:
        # The quick fingerprint (counts, spans, sums) and the workspace's write generation: an in-place change
        # through the library (Workspace.write, sources.load) is seen even when the fingerprint is not moved.
        key = (pmap.rules_json(), str(end), _fingerprint(ws))

        def evict(built: tuple[ibis.Table, str]) -> None:
            if not built[1].startswith(STORED_PREFIX):
                ws.drop_table(built[1])

        def usable(built: tuple[ibis.Table, str]) -> bool:  # prepare() wants the stored one, not a temporary
            if store.dropped(built[1]):  # dropped since (store.MAX_STORED): built again
                return False
            return not store.KEEP_POINTS.get() or built[1].startswith(STORED_PREFIX) or ws.read_only

        out = ws.cached("timelines", key, lambda: _build_cached(ws, pmap, end), size=_MEMO_SIZE,
                        on_evict=evict, valid=usable)[0]
    if where:
        from cscflow.journeys.filters import apply_where

        out = apply_where(ws, out, where)
    return out


_COUNTER = itertools.count()


#: Compiled SQL per (engine, map, end): building and compiling the expression costs more than running
#: it on a county, and does not depend on the data.
_SQL: dict[tuple[Any, ...], tuple[str, str, str]] = {}


def _build(ws: WorkspaceLike, pmap: ProcessMap, end: Any, cache: bool) -> ibis.Table:
    if not cache:
        return _assemble(ws, mapped_stays(ws, pmap, end))
    return _build_cached(ws, pmap, end)[0]


def _build_cached(ws: WorkspaceLike, pmap: ProcessMap, end: Any) -> tuple[ibis.Table, str]:
    """The timeline stored in the workspace (:mod:`.timeline_store`) or a temporary table: (the timeline over
    it, the table's name)."""
    dialect = ws.dialect
    map_json = pmap.rules_json()  # what the timeline depends on: a relabelled or redrawn map keeps it
    shape = remembered(ws, "shape:" + hashlib.sha1(map_json.encode()).hexdigest()[:12],  # noqa: S324 - a name
                       lambda: tp.shape(ws, pmap), lambda s: json.dumps(list(s)), _load_shape)
    stored_name: str | None = None
    content = ""
    # Timelines with stays of some length are kept in the workspace when built by a writable one. An event
    # log's (every stay an instant) is one sort, about as quick to build as to write: it is stored only when
    # asked (timeline.prepare, at the end of `cscflow load`), for the processes that come after.
    if store.enabled(ws):
        content = store.content_key(ws)
        stored_name = store.name_for(content, map_json, end)
        if store.exists(ws, stored_name):
            stored = ws.table(stored_name)
            return (tp.widen(stored, shape) if shape.points else stored), stored_name
        if shape.points and not store.KEEP_POINTS.get():
            stored_name = None
    if not shape.points:
        shape = tp.FULL
    key = (dialect, map_json, str(end), shape)
    if key not in _SQL:
        if shape.points:  # every stay is zero-length (an event log): nothing overlaps, one sort is enough
            _SQL[key] = ("", "", ibis.to_sql(tp.points_timeline(ws, pmap, shape), dialect=dialect))
        else:
            ms = mapped_stays(ws, pmap, end)
            name = "_cscflow_ms_" + hashlib.sha1(repr(key).encode()).hexdigest()[:16]  # noqa: S324 - a name
            final = _assemble(ws, ibis.table(ms.schema(), name=name))
            _SQL[key] = (name, ibis.to_sql(ms, dialect=dialect), ibis.to_sql(final, dialect=dialect))
    name, ms_sql, final_sql = _SQL[key]
    if name:
        _store(ws, name, ms_sql)
    persist = stored_name is not None and not ws.read_only
    final_name = stored_name if stored_name is not None and persist else f"_cscflow_journeys_{os.getpid()}_{next(_COUNTER)}"
    _store(ws, final_name, final_sql, temp=not persist)
    if persist:
        store.keep(ws, final_name, tuple(shape), content)
    stored = ws.table(final_name)
    return (tp.widen(stored, shape) if shape.points else stored), final_name


def _load_shape(text: str) -> tp.Shape:
    values: list[Any] = [tuple(v) if isinstance(v, list) else v for v in json.loads(text)]
    return tp.Shape(*values)


def _store(ws: WorkspaceLike, name: str, sql: str, temp: bool = True) -> None:
    """Run compiled ``sql`` once into (temporary) table ``name`` (raw SQL: re-parsing it costs more)."""
    ws.materialise_sql(name, sql, temp=temp)


def _assemble(ws: WorkspaceLike, e: ibis.Table) -> ibis.Table:
    """The timeline rows (before their order) from mapped stays ``e``: overlaps resolved, exits added."""
    keep = ["child_id", "k", "need_id", "station", "rank", "start", "end_eff", "is_open", "exit",
            "stage", "outcome", "team", "episode_id", "is_point"]
    single = e.filter(e.alone).select(*keep, p_start=e.start, p_end=e.end_eff, multi=ibis.literal(False))
    multi = e.filter(~e.alone)
    cw = ibis.window(group_by=multi.child_id, order_by=multi.k, rows=(None, 0))
    multi = multi.mutate(cluster=multi.new.cast("int64").sum().over(cw)).select(*keep, "cluster")
    pieces = _resolve(multi).rename(r_child="child_id", r_cluster="cluster", r_k="k", r_point="is_point")
    joined = pieces.join(
        multi, [pieces.r_child == multi.child_id, pieces.r_cluster == multi.cluster, pieces.r_k == multi.k]
    ).select(*[c for c in keep if c != "is_point"], is_point=pieces.r_point, p_start=pieces.p_start,
             p_end=pieces.p_end, multi=ibis.literal(True))
    allp = single.union(joined.select(*keep, "p_start", "p_end", "multi"))
    final = allp.p_end == allp.end_eff
    stays = allp.select(
        "child_id", "need_id", "station", "stage", "outcome", "team", "episode_id", "k",
        start=allp.p_start,
        end=ibis.ifelse(allp.is_open & final, ibis.null("timestamp"), allp.p_end),
        kind=ibis.literal("stay"),
        phase=ibis.ifelse(allp.is_point, 1, 2),
        sub=ibis.literal(0),
        exit=ibis.ifelse(final, allp.exit, ibis.null("string")),
        multi=allp.multi,
    )
    ex = stays.filter(stays.exit.notnull())
    # An exit is drawn only when the child leaves: not while another stay carries on through it.
    cover = multi.filter(~multi.is_point).select(c_child="child_id", c_start="start", c_end="end_eff")
    ex = ex.filter(~ex.multi).union(
        ex.filter(ex.multi).anti_join(
            cover, [ex.child_id == cover.c_child, cover.c_start < ex.end, cover.c_end > ex.end]
        )
    )
    exits = ex.select(
        "child_id", "need_id", station=ex.exit, stage=ex.stage, outcome=ex.outcome, team=ex.team,
        episode_id=ex.episode_id, k=ex.k, start=ex.end, end=ex.end, kind=ibis.literal("exit"),
        phase=ibis.ifelse(ex.phase == 1, 1, 0), sub=ibis.literal(1), exit=ex.exit,
    )
    return _order_rows(ws, stays.drop("multi").union(exits))


def _order_rows(ws: WorkspaceLike, rows: ibis.Table) -> ibis.Table:
    """The timeline's order over resolved rows: seq, repeat and the next row, in one sort per child."""
    needs = _need_ranks(ws)
    rows = rows.left_join(needs, [rows.child_id == needs.n_child, rows.need_id == needs.n_need])
    # One sort for the order, the next row and the episodes of need begun so far.
    order = [rows.start, rows.phase, rows.k, rows.sub]
    w = ibis.window(group_by=rows.child_id, order_by=order)
    seen = rows.need_rank.max().over(ibis.window(group_by=rows.child_id, order_by=order, rows=(None, 0)))
    rows = rows.mutate(
        seq=ibis.row_number().over(w) + 1,
        repeat=ibis.coalesce(rows.need_rank, seen.fill_null(0) + 1).cast("int64"),
        next_station=rows.station.lead().over(w),
        next_start=rows.start.lead().over(w),
    )
    return rows.select(*COLUMNS, *EXTRA, "next_station", "next_start")


def prepare(ws: WorkspaceLike) -> tuple[str, int] | None:
    """Store the timeline a new workspace is most likely to be asked for: the England map's when the
    episodes hold children's social care stages, else the ``auto`` map's (any other process log).

    Returns (map name, timeline rows), or None where no timeline is stored (not DuckDB, read-only or empty).
    An event log's timeline (instants) is stored too: each later process reads it instead of sorting again.
    """
    if not store.enabled(ws) or ws.read_only:
        return None
    stages = {r[0] for r in ws.sql("SELECT DISTINCT stage FROM episodes")}
    if not stages:
        return None
    england = load_map("england")
    name = "england" if stages & set(england.stage_map) else "auto"
    token = store.KEEP_POINTS.set(True)
    try:
        tl = timelines(ws, england if name == "england" else load_map("auto", ws))
    finally:
        store.KEEP_POINTS.reset(token)
    if not store.stored_names(ws):
        return None
    from cscflow.journeys.windows import source_windows

    source_windows(ws)  # kept in the workspace file beside the timeline, for the processes that follow
    return name, int(ws.execute(tl.count()))
