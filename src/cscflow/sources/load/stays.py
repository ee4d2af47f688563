"""Load stage 5, write stays: into ``episodes`` inside the engine, ids joined, duplicates dropped, needs attached.

A whole load's stays (every file) go in with one ``INSERT ... SELECT``:

- LA child ids are pseudonymised once per distinct id in Python; the small (id -> pseudonym)
  table is joined to the stays in the engine;
- the same stay (child, stage, start date) from several sources is kept once: the
  earliest-ranked source keeps it (an anti-join against the few duplicate rows), with the end another copy
  knows when its own is not known (open, or ``end_unknown``);
- ``need_id`` is ``<child_id>-<yyyymmdd of the referral>``: from the source's own key
  (``need_key``, the referral with that key in the same source) or else the child's latest
  referral starting on or before the stay (a running max over the child's stays by start);
- stays loaded earlier are re-attached (``UPDATE``) when a later source brings an earlier referral.

>>> import tempfile, pandas as pd
>>> from cscflow.workspace import Workspace
>>> from cscflow.sources.base import ReadResult
>>> from cscflow.sources.load.pseudonymise import Pseudonyms
>>> from cscflow.sources.load.staging import staged_stays
>>> ws = Workspace(tempfile.mkdtemp(), la="886")
>>> r = ReadResult(source="a.csv", format="events")
>>> r.episodes = pd.DataFrame({"source_child_id": ["C1", "C1"], "stage": ["referral", "assessment"],
...                            "start": ["2020-01-02", "2020-01-05"], "source_row": [1, 2]})
>>> tab, ids = staged_stays(ws, r, Pseudonyms(ws, {}), 1)
>>> write_stays(ws, [tab], [ids], ["a.csv"])["a.csv"][:2]
(2, 0)
>>> sorted(ws.table("episodes").need_id.execute().str[-8:])
['20200102', '20200102']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cscflow.sources.events_stage import StagedEngine, need_inputs, with_days
from cscflow.sources.load.pseudonymise import source_tag
from cscflow.sources.load.report import EXAMPLES
from cscflow.sources.load.staging import Staged

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

#: (stays written, duplicates dropped, examples) per source.
Stats = dict[str, tuple[int, int, list[dict[str, Any]]]]


def _need(child: ibis.Column, day: ibis.Column) -> ibis.Column:
    return ibis.ifelse(day.isnull(), ibis.null(str), child + "-" + day.strftime("%Y%m%d"))


def _latest_referral(t: ibis.Table) -> ibis.Column:
    """Per row, the day of the child's latest referral on or before the row's day (a running max)."""
    ref_first = ibis.ifelse(t.stage == "referral", 0, 1)
    w = ibis.window(group_by=t.child_id, order_by=[t.day, ref_first], preceding=None, following=0)
    return ibis.ifelse(t.stage == "referral", t.day, ibis.null("date")).max().over(w)


def latest_referral_days(child: np.ndarray, day: np.ndarray, is_ref: np.ndarray) -> np.ndarray:
    """Per row, the day of the same child's latest referral on or before the row's day (-1: none).

    ``child`` are integer codes, ``day`` day numbers (>= 0; -1 for no date), ``is_ref`` marks referrals.
    One sort by (child, day, referrals first) and a running max that restarts per child.

    >>> latest_referral_days(np.array([0, 0, 0, 1]), np.array([5, 3, 9, 4]), np.array([False, True, False, False]))
    array([ 3,  3,  3, -1])
    """
    if not len(child):
        return np.zeros(0, dtype=np.int64)
    span = int(day.max()) + 2
    d = day.astype(np.int64) + 1  # 0: no date
    key = (child.astype(np.int64) * span + d) * 2 + (~is_ref).astype(np.int64)
    order = np.argsort(key)  # rows with equal keys are interchangeable
    base = child.astype(np.int64)[order] * span
    val = np.where(is_ref[order] & (d[order] > 0), base + d[order], base)
    need = np.maximum.accumulate(val) - base - 1
    out = np.empty(len(child), dtype=np.int64)
    out[order] = need
    return out


def _days(ts: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(day numbers since 1970, valid mask) of a timestamp[us] column."""
    us = pc.cast(ts, pa.int64())
    valid = np.asarray(pc.is_valid(us))
    vals = np.asarray(pc.fill_null(us, 0)) if us.null_count else np.asarray(us)
    return np.floor_divide(vals, 86_400_000_000), valid


def _attach_days(ws: WorkspaceLike, stays: list[pa.Table | StagedEngine], ids: list[pa.Table],
                 n_old: int) -> list[pa.Table | str]:
    """Add ``day`` and ``r_day`` (latest referral on or before, by the date rule) to each source's stays.

    Referrals already in the workspace count too (only those of this load's children are read).
    Stays staged in the engine come back as SQL (the need days joined back by ``pos`` when there are any).
    """
    if not n_old and not any(t.referrals for t in stays if isinstance(t, StagedEngine)) and not any(
            pc.any(pc.equal(t.column("stage"), "referral")).as_py() for t in stays if isinstance(t, pa.Table)):
        return _without_needs(ws, stays)  # no referral anywhere: no stay has an episode of need
    kids = pc.unique(pa.concat_arrays([i.column("child_id").combine_chunks() for i in ids]))
    codes, days, refs, valid = [], [], [], []
    where: list[Any] = []  # per table: the staged engine's row positions, or None for an Arrow table
    for tab, i in zip(stays, ids, strict=True):
        local = np.asarray(pc.index_in(i.column("child_id"), value_set=kids)).astype(np.int64)
        if isinstance(tab, StagedEngine):
            pos, code, d, ok, ref = need_inputs(ws, tab)
            codes.append(local[code])
            where.append(pos)
        else:
            codes.append(local[np.asarray(tab.column("_code").combine_chunks())])
            d, ok = _days(tab.column("start"))
            ref = np.asarray(pc.fill_null(pc.equal(tab.column("stage"), "referral"), False))
            where.append(None)
        days.append(d)
        valid.append(ok)
        refs.append(ref)
    if n_old:
        kt = _stage_arrow(ws, "_inc_kids", pa.table({"child_id": kids}))
        ep = ws.table("episodes")
        old = ep.filter(ep.stage == "referral").semi_join(kt, ep.child_id == kt.child_id)
        old = old.select("child_id", "start").to_pyarrow()
        _unstage(ws, "_inc_kids")
        if old.num_rows:
            codes.append(np.asarray(pc.index_in(old.column("child_id"), value_set=kids)).astype(np.int64))
            d, ok = _days(old.column("start").cast(pa.timestamp("us")))
            days.append(d)
            valid.append(ok)
            refs.append(np.ones(old.num_rows, dtype=bool))
    day = np.concatenate(days)
    ok = np.concatenate(valid)
    is_ref = np.concatenate(refs) & ok
    if is_ref.any():
        low = int(day[ok].min()) if ok.any() else 0
        need = latest_referral_days(np.concatenate(codes), np.where(ok, day - low, -1), is_ref)
    else:  # no referral at all (e.g. another process's log): no stay has a need
        low, need = 0, np.full(len(day), -1, dtype=np.int64)
    out: list[pa.Table | str] = []
    at = 0
    for tab, d, v, pos in zip(stays, days[:len(stays)], valid[:len(stays)], where, strict=True):
        n = len(d)
        nd = need[at:at + n]
        at += n
        r_day = pa.array((nd + low).astype(np.int32), pa.date32(), mask=nd < 0)
        if isinstance(tab, StagedEngine):
            out.append(with_days(ws, tab, pos, r_day if r_day.null_count < n else None))
            continue
        day32 = pa.array(d.astype(np.int32), pa.date32(), mask=~v)
        out.append(tab.drop_columns(["_code"]).append_column("day", day32).append_column("r_day", r_day))
    return out


def _without_needs(ws: WorkspaceLike, stays: list[pa.Table | StagedEngine]) -> list[pa.Table | str]:
    """:func:`_attach_days` for a load without any referral (every ``r_day`` null)."""
    out: list[pa.Table | str] = []
    for tab in stays:
        if isinstance(tab, StagedEngine):
            out.append(with_days(ws, tab, None, None))
            continue
        d, v = _days(tab.column("start"))
        out.append(tab.drop_columns(["_code"]).append_column("day", pa.array(d.astype(np.int32), pa.date32(), mask=~v))
                   .append_column("r_day", pa.nulls(tab.num_rows, pa.date32())))
    return out


def _stage_arrow(ws: WorkspaceLike, name: str, data: pa.Table) -> ibis.Table:
    """An Arrow table visible to the engine (DuckDB: registered without copying)."""
    return ws.register(name, data)


def _temp_table(ws: WorkspaceLike, name: str, expr: ibis.Table) -> None:
    """``expr`` computed now into temporary table ``name`` (later writes to ``episodes`` do not change it)."""
    ws.materialise(name, expr)


def _unstage(ws: WorkspaceLike, *names: str) -> None:
    for name in names:
        ws.unregister(name)


def write(ws: WorkspaceLike, staged: Staged) -> Stats:
    """Write the staged stays of one load (:func:`write_stays`); per-source statistics."""
    return write_stays(ws, staged.stays, staged.ids, staged.sources)


def write_stays(ws: WorkspaceLike, stays: list[pa.Table], ids: list[pa.Table], sources: list[str]) -> Stats:
    """Write staged stays of one load (from :func:`staged_stays`); returns per-source statistics.

    ``sources`` names the source of each staged table. Sources rank by ``load_seq`` after everything
    already loaded: when two report the same stay (child, stage, start date), the earlier keeps it.
    """
    if not stays:
        return {}
    n_old = ws.count("episodes")
    keyed = any(s.keyed if isinstance(s, StagedEngine) else s.column("need_key").null_count < s.num_rows
                for s in stays)
    sizes: dict[str, int] = {}
    seqs: dict[int, str] = {}
    for tab, src in zip(stays, sources, strict=True):
        sizes[src] = sizes.get(src, 0) + tab.num_rows
        seqs[tab.load_seq if isinstance(tab, StagedEngine) else tab.column("load_seq")[0].as_py()] = src
    ready = _attach_days(ws, stays, ids, n_old)
    arrow = [t for t in ready if isinstance(t, pa.Table)]
    sqls = [t for t in ready if isinstance(t, str)]
    if sqls:  # stays left in the engine by the reader, with any others registered beside them
        if arrow:
            ws.register("_inc_arrow", pa.concat_tables(arrow))
            sqls.append("SELECT * FROM _inc_arrow")
        ws.sql("CREATE OR REPLACE TEMP VIEW _inc_stays AS " + " UNION ALL BY NAME ".join(
            f"({q})" for q in sqls))
        inc = ws.table("_inc_stays")
    else:
        inc = _stage_arrow(ws, "_inc_stays", pa.concat_tables(arrow))
    try:
        return _write(ws, inc, seqs, sizes, keyed, n_old)
    finally:
        if sqls:
            ws.sql("DROP VIEW IF EXISTS _inc_stays")
            if arrow:
                ws.unregister("_inc_arrow")
        else:
            _unstage(ws, "_inc_stays")
        for name in ("_dup_stays", "_new_referrals", "_need_fix", "_end_fill"):
            ws.drop_table(name)


def _by_seq(seq: ibis.Column, values: dict[int, str]) -> ibis.Column:
    if len(values) == 1:
        return ibis.literal(next(iter(values.values())))
    return ibis.cases(*[(seq == k, v) for k, v in values.items()])


def _write(ws: WorkspaceLike, t: ibis.Table, seqs: dict[int, str], sizes: dict[str, int], keyed: bool,
           n_old: int) -> Stats:
    cols = list(ws.table("episodes").columns)
    tags = {k: source_tag(v) + "-" for k, v in seqs.items()}
    t = t.mutate(source=_by_seq(t.load_seq, seqs), episode_id=_by_seq(t.load_seq, tags) + t.pos.cast("string"))
    if keyed:  # the source's own key: the day of the referral with that key in the same source
        r = t.filter(t.need_key.notnull() & (t.stage == "referral"))
        kr = r.group_by(["load_seq", "child_id", "need_key"]).aggregate(k_day=r.day.min())
        kr = kr.rename(k_seq="load_seq", k_child="child_id", k_key="need_key")
        t = t.left_join(kr, [t.load_seq == kr.k_seq, t.child_id == kr.k_child, t.need_key == kr.k_key])
        t = t.drop("k_seq", "k_child", "k_key")
    else:
        t = t.mutate(k_day=ibis.null("date"))
    keep, dups = _drop_duplicates(ws, t, n_old, multi=len(sizes) > 1)
    if n_old:  # children gaining a referral day they did not have: earlier stays may need re-attaching
        ep = ws.table("episodes")
        old = ep.filter(ep.stage == "referral")
        old = old.select(r_child=old.child_id, r_day=old.start.date())
        new = keep.filter(keep.stage == "referral").select(r_child=keep.child_id, r_day=keep.day)
        gained = new.anti_join(old, [new.r_child == old.r_child, new.r_day == old.r_day]).select("r_child")
        _temp_table(ws, "_new_referrals", gained.distinct())
    u = keep.mutate(need_id=ibis.coalesce(_need(keep.child_id, keep.k_day), _need(keep.child_id, keep.r_day)))
    ws.insert("episodes", u.select(cols))
    if keyed:
        ws.insert("_need_keyed", keep.filter(keep.k_day.notnull()).select("source", "episode_id"))
    if n_old:
        _reattach(ws, sorted(sizes))
    return _stats(sizes, dups)


#: How a stay's ``attrs`` say its end was not recorded (readers end such a stay the day it starts).
END_UNKNOWN = '"end_unknown": true'


def _end_known(t: ibis.Table) -> ibis.BooleanValue:
    return t.end.notnull() & ~t.attrs.fill_null("").contains(END_UNKNOWN) & (t.end >= t.start)


def _end_wanted(t: ibis.Table) -> ibis.BooleanValue:
    return t.end.isnull() | t.attrs.fill_null("").contains(END_UNKNOWN)


def _drop_duplicates(ws: WorkspaceLike, t: ibis.Table, n_old: int, multi: bool) -> tuple[ibis.Table, pd.DataFrame]:
    """(the stays to write, the duplicates dropped per source with up to EXAMPLES examples each).

    The copy kept of a stay several sources report is the earliest-ranked one's (``load_seq``); when its end is
    not known (open, or ``end_unknown``) and another copy's is, it takes that end (and outcome when it has none):
    an earlier census holds a referral open at 31 March that the next census closes. It takes the team and
    worker another copy names when it names none (the census names no team; the case system's event log does).
    An earlier load's kept copy is updated the same way (:func:`_fill_old_ends`)."""
    parts = []
    if n_old:  # the same stay already loaded from an earlier source
        ep = ws.table("episodes")
        old = ep.select(o_child=ep.child_id, o_stage=ep.stage, o_day=ep.start.date())
        parts.append(t.semi_join(old, [t.child_id == old.o_child, t.stage == old.o_stage, t.day == old.o_day]))
        _fill_old_ends(ws, t)
    if multi:  # ... or from an earlier source of this load
        known = _end_known(t)
        m = t.group_by(["child_id", "stage", "day"]).aggregate(
            m_seq=t.load_seq.min(), m_n=t.count(), m_end=t.end.argmin(t.load_seq, where=known),
            m_outcome=t.outcome.argmin(t.load_seq, where=known), m_source=t.source.argmin(t.load_seq, where=known),
            m_team=t.team.argmin(t.load_seq, where=t.team.notnull()),
            m_worker=t.worker.argmin(t.load_seq, where=t.worker.notnull()))
        m = m.filter(m.m_n > 1).rename(m_child="child_id", m_stage="stage", m_day="day")
        j = t.join(m, [t.child_id == m.m_child, t.stage == m.m_stage, t.day == m.m_day])
        parts.append(j.filter(j.load_seq > j.m_seq).select(t.columns))
        t = _fill_ends(t, m)
    if not parts:
        return t, pd.DataFrame(columns=["source", "n", "source_row", "stage", "day", "rn"])
    d = parts[0].select("load_seq", "pos", "source", "source_row", "stage", "day")
    for p in parts[1:]:
        d = d.union(p.select("load_seq", "pos", "source", "source_row", "stage", "day"), distinct=True)
    _temp_table(ws, "_dup_stays", d)
    dups = ws.table("_dup_stays")
    w = ibis.window(group_by=dups.source, order_by=[dups.source_row, dups.pos])
    shown = dups.mutate(n=dups.count().over(ibis.window(group_by=dups.source)), rn=ibis.row_number().over(w))
    found = shown.filter(shown.rn < EXAMPLES).execute()
    if found.empty:
        return t, found
    keep = t.anti_join(dups, [t.load_seq == dups.load_seq, t.pos == dups.pos])
    return keep, found


def _noted(attrs: ibis.StringValue, source: ibis.StringValue) -> ibis.StringValue:
    """``attrs`` (JSON text) saying the stay's end came from ``source``: ``end_unknown`` replaced, else added."""
    note = ibis.literal('"end_from": "') + source + '"'
    bare = attrs.isnull() | (attrs == "") | (attrs == "{}")
    return ibis.cases((attrs.fill_null("").contains(END_UNKNOWN), attrs.replace(END_UNKNOWN, note)),
                      (bare, "{" + note + "}"), else_=attrs.left(attrs.length() - 1) + ", " + note + "}")


def _fill_ends(t: ibis.Table, m: ibis.Table) -> ibis.Table:
    """``t`` with the kept copies whose end is not known given the end another copy of the stay knows, and
    without a team or worker given another copy's (``m``: per duplicated stay, the earliest-ranked known end,
    its outcome and source, team and worker)."""
    j = t.left_join(m, [t.child_id == m.m_child, t.stage == m.m_stage, t.day == m.m_day])
    kept = j.load_seq == j.m_seq
    fill = kept & _end_wanted(j) & j.m_end.notnull()
    return j.mutate(end=ibis.ifelse(fill, j.m_end, j.end),
                    outcome=ibis.ifelse(fill, j.outcome.fill_null(j.m_outcome), j.outcome),
                    attrs=ibis.ifelse(fill, _noted(j.attrs, j.m_source), j.attrs),
                    team=ibis.ifelse(kept, j.team.fill_null(j.m_team), j.team),
                    worker=ibis.ifelse(kept, j.worker.fill_null(j.m_worker), j.worker)).select(t.columns)


def _fill_old_ends(ws: WorkspaceLike, t: ibis.Table) -> None:
    """Stays loaded before whose end is not known take the end a copy in this load knows, and those without a
    team or worker take the ones it names (DuckDB: ``UPDATE``; other engines: ``episodes`` rebuilt)."""
    known = _end_known(t)
    new = t.group_by(["child_id", "stage", "day"]).aggregate(
        n_end=t.end.argmin(t.load_seq, where=known), n_outcome=t.outcome.argmin(t.load_seq, where=known),
        n_source=t.source.argmin(t.load_seq, where=known),
        n_team=t.team.argmin(t.load_seq, where=t.team.notnull()),
        n_worker=t.worker.argmin(t.load_seq, where=t.worker.notnull()))
    ep = ws.table("episodes")
    old = ep.filter(_end_wanted(ep) | ep.team.isnull() | ep.worker.isnull())
    fx = old.join(new, [old.child_id == new.child_id, old.stage == new.stage, old.start.date() == new.day])
    end = _end_wanted(fx) & fx.n_end.notnull() & (fx.n_end >= fx.start)
    fx = fx.filter(end | (fx.team.isnull() & fx.n_team.notnull()) | (fx.worker.isnull() & fx.n_worker.notnull()))
    fx = fx.select(f_id=fx.episode_id, f_end=ibis.ifelse(end, fx.n_end, fx.end),
                   f_outcome=ibis.ifelse(end, fx.outcome.fill_null(fx.n_outcome), fx.outcome),
                   f_attrs=ibis.ifelse(end, _noted(fx.attrs, fx.n_source), fx.attrs),
                   f_team=fx.team.fill_null(fx.n_team), f_worker=fx.worker.fill_null(fx.n_worker))
    _temp_table(ws, "_end_fill", fx)
    if ws.in_place:
        ws.sql('UPDATE episodes SET "end" = f.f_end, outcome = f.f_outcome, attrs = f.f_attrs, team = f.f_team, '
               "worker = f.f_worker FROM _end_fill f WHERE episodes.episode_id = f.f_id")
        ws.touch()  # a write behind ws.write: what was worked out from the episodes is worked out again
        return
    f = ws.table("_end_fill")
    if not int(f.count().execute()):
        return
    j = ep.left_join(f, ep.episode_id == f.f_id)
    got = j.f_id.notnull()
    new_ep = j.mutate(end=ibis.ifelse(got, j.f_end, j.end), outcome=ibis.ifelse(got, j.f_outcome, j.outcome),
                      attrs=ibis.ifelse(got, j.f_attrs, j.attrs), team=ibis.ifelse(got, j.f_team, j.team),
                      worker=ibis.ifelse(got, j.f_worker, j.worker)).select(ep.columns)
    ws.create_table("_episodes_rebuilt", new_ep, overwrite=True)
    ws.create_table("episodes", ws.table("_episodes_rebuilt"), overwrite=True)
    ws.drop_table("_episodes_rebuilt")


def _stats(sizes: dict[str, int], dups: pd.DataFrame) -> Stats:
    out: Stats = {}
    for source, n in sizes.items():
        d = dups[dups.source == source]
        k = int(d.n.iloc[0]) if len(d) else 0
        examples = [
            {"file": source, "row": None if pd.isna(x.source_row) else int(x.source_row), "column": "start",
             "value": str(x.day)[:10], "why": f"this {x.stage} stay was already loaded from another source",
             "how_to_fix": "nothing to do: it is counted once"}
            for x in d.sort_values(["rn"]).itertuples()
        ]
        out[source] = (n - k, k, examples)
    return out


def _reattach(ws: WorkspaceLike, batch: list[str]) -> None:
    """Re-attach earlier-loaded stays of children who gained a referral in this load (DuckDB: UPDATE)."""
    newref = ws.table("_new_referrals")
    if not int(newref.count().execute()):
        return
    if not ws.in_place:  # pragma: no cover - Spark: rebuild instead
        assign_needs(ws)
        return
    ep, keyed = ws.table("episodes"), ws.table("_need_keyed")
    e = ep.semi_join(newref, ep.child_id == newref.r_child)
    e = e.mutate(day=e.start.date())
    e = e.mutate(r_day=_latest_referral(e))
    fx = e.filter(~e.source.isin(batch)).anti_join(keyed, e.episode_id == keyed.episode_id)
    fx = fx.select(f_id=fx.episode_id, f_need=_need(fx.child_id, fx.r_day))
    _temp_table(ws, "_need_fix", fx)
    ws.sql(
        'UPDATE episodes SET need_id = f.f_need FROM _need_fix f '
        'WHERE episodes.episode_id = f.f_id AND episodes.need_id IS DISTINCT FROM f.f_need'
    )
    ws.touch()


def assign_needs(ws: WorkspaceLike) -> None:
    """Recompute every unkeyed need_id by rebuilding ``episodes`` (engines without UPDATE).

    The need of a stay without a source key is the child's latest referral starting on or before it.
    """
    ep = ws.table("episodes")
    if int(ep.count().execute()) == 0:
        return
    keyed = ws.table("_need_keyed")
    cols = list(ep.columns)
    e = ep.mutate(day=ep.start.date(), keyed=ep.episode_id.isin(keyed.episode_id))
    e = e.mutate(r_day=_latest_referral(e))
    new = e.mutate(need_id=ibis.ifelse(e.keyed, e.need_id, _need(e.child_id, e.r_day))).select(cols)
    ws.create_table("_episodes_rebuilt", new, overwrite=True)
    ws.create_table("episodes", ws.table("_episodes_rebuilt"), overwrite=True)
    ws.drop_table("_episodes_rebuilt")
