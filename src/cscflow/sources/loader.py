"""Write what readers return into a workspace: pseudonymise, merge, de-duplicate, report.

:func:`ingest` takes one :class:`~cscflow.sources.base.ReadResult` and

- pseudonymises LA child ids with the workspace key (``ws.pseudonymise``);
- replaces anything loaded earlier from the same file (reloading never duplicates);
- drops stays already loaded from another source (same child, stage and start date:
  the first source loaded keeps the stay) and counts them in the report;
- turns the source's ``need_key`` into ``need_id`` (``<child_id>-<yyyymmdd of the referral>``);
- keeps each source's view of a child in ``_source_children`` so that conflicting sex or
  date of birth across sources is reported, never silently overwritten;
- writes ``episodes``, ``identifiers``, ``proceedings`` and ``quarantine`` and a per-source
  report in ``_sources``.

:func:`ingest_many` writes a whole load (every file) in a handful of engine queries; a stay
without a source key gets the child's latest referral starting on or before it as its need,
and stays loaded earlier are re-attached when a later source brings an earlier referral.
:func:`finalise` then rebuilds ``children`` (first non-missing value per field, in load
order). :func:`cscflow.sources.load` calls both.

Internal tables (underscore names, never served): ``_sources``, ``_source_children``,
``_repairs``, ``_need_keyed``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cscflow.errors import SourceError
from cscflow.sources.base import ReadResult
from cscflow.sources.values import clean_id, is_blank, map_values, parse_dates, sex_code
from cscflow.workspace import Workspace

#: How many examples each problem keeps in the report.
EXAMPLES = 5

_EPISODE_ARROW = pa.schema(
    [
        ("source_child_id", pa.string()),
        ("stage", pa.string()),
        ("start", pa.timestamp("us")),
        ("end", pa.timestamp("us")),
        ("outcome", pa.string()),
        ("need_key", pa.string()),
        ("team", pa.string()),
        ("worker", pa.string()),
        ("attrs", pa.string()),
        ("source_row", pa.int64()),
    ]
)
_SOURCES_SCHEMA = ibis.schema(
    {
        "source": "string",
        "format": "string",
        "load_seq": "int64",
        "loaded_at": "timestamp",
        "rows_read": "int64",
        "rows_loaded": "int64",
        "rows_quarantined": "int64",
        "rows_repaired": "int64",
        "report": "string",
    }
)
_SOURCE_CHILDREN_SCHEMA = ibis.schema(
    {
        "source": "string",
        "load_seq": "int64",
        "child_id": "string",
        "la": "string",
        "sex": "string",
        "ethnicity": "string",
        "birth_month": "date",
        "disability": "boolean",
        "uasc": "boolean",
        "attrs": "string",
    }
)
_REPAIRS_SCHEMA = ibis.schema({"source": "string", "source_row": "int64", "repair": "string", "detail": "string"})
_NEED_KEYED_SCHEMA = ibis.schema({"source": "string", "episode_id": "string"})
INTERNAL = {
    "_sources": _SOURCES_SCHEMA,
    "_source_children": _SOURCE_CHILDREN_SCHEMA,
    "_repairs": _REPAIRS_SCHEMA,
    "_need_keyed": _NEED_KEYED_SCHEMA,
}
_BY_SOURCE = ("episodes", "identifiers", "proceedings", "quarantine", *INTERNAL)


@dataclass
class SourceReport:
    """What happened to one source file (an item of the quality report's ``sources`` list)."""

    file: str
    format: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_repaired: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    stays_written: int = 0
    duplicate_stays: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def accounted(self) -> bool:
        """rows_read == rows_loaded + rows_quarantined."""
        return self.rows_read == self.rows_loaded + self.rows_quarantined


# --------------------------------------------------------------------------------- helpers


def ensure_internal(ws: Workspace) -> None:
    """Create the loader's internal tables if missing."""
    existing = set(ws.con.list_tables())
    for name, sch in INTERNAL.items():
        if name not in existing:
            ws.con.create_table(name, schema=sch)


def _delete_sources(ws: Workspace, table: str, sources: list[str]) -> None:
    if ws.engine == "duckdb":
        marks = ", ".join("?" for _ in sources)
        ws.con.con.execute(f'DELETE FROM "{table}" WHERE source IN ({marks})', sources)
    else:  # pragma: no cover - Spark path
        for source in sources:
            ws.delete(table, {"source": source})


def _source_tag(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()[:8]


def _json_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict) and not value:
        return None
    return json.dumps(value, default=str, sort_keys=True)


def _str_col(values: pd.Series) -> pa.Array:
    return pa.array(map_values(values, clean_id).tolist(), type=pa.string())


def _ts_col(values: pd.Series) -> pa.Array:
    parsed = parse_dates(values)
    return pa.array(parsed.to_numpy(dtype="datetime64[us]"), type=pa.timestamp("us"))


def episodes_arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """A reader's episodes (pandas or Arrow) as an Arrow table of the episode columns, typed."""
    if isinstance(frame, pa.Table):
        cols = []
        for f in _EPISODE_ARROW:
            if f.name in frame.column_names:
                col = frame.column(f.name)
                cols.append(col if col.type == f.type else pc.cast(col, f.type))
            else:
                cols.append(pa.nulls(frame.num_rows, f.type))
        return pa.Table.from_arrays(cols, schema=_EPISODE_ARROW)
    n = len(frame)
    arrays: list[pa.Array] = []
    for f in _EPISODE_ARROW:
        if f.name not in frame.columns:
            arrays.append(pa.nulls(n, f.type))
        elif f.name in ("start", "end"):
            arrays.append(_ts_col(frame[f.name]))
        elif f.name == "source_row":
            arrays.append(pa.array(pd.to_numeric(frame[f.name], errors="coerce").astype("Int64"), pa.int64()))
        elif f.name == "attrs":
            arrays.append(pa.array([_json_text(v) for v in frame[f.name]], pa.string()))
        else:
            arrays.append(_str_col(frame[f.name]))
    return pa.Table.from_arrays(arrays, schema=_EPISODE_ARROW)


class _Pseudonyms:
    """Pseudonymise many LA child ids (each distinct id hashed once, remembered between calls)."""

    def __init__(self, ws: Workspace, la_of: dict[str, str]) -> None:
        self.ws, self.la_of = ws, la_of
        self.known: dict[str, str] = {}

    def __call__(self, ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        uniq = pc.unique(ids)
        values = uniq.to_pylist()
        todo = [v for v in values if v not in self.known]
        if todo:
            la = self.ws.la if self.ws.la else [self.la_of.get(v or "", "") for v in todo]
            self.known.update(zip(todo, self.ws.pseudonymise(todo, la=la), strict=True))
        hashed = pa.array([self.known[v] for v in values], pa.string())
        return pc.take(hashed, pc.index_in(ids, value_set=uniq))


def _problem(problem: str, count: int, examples: list[dict[str, Any]]) -> dict[str, Any]:
    return {"problem": problem, "count": int(count), "examples": examples[:EXAMPLES]}


# --------------------------------------------------------------------------------- ingest


def ingest(ws: Workspace, result: ReadResult) -> SourceReport:
    """Write one reader result into the workspace, replacing earlier loads of the same file.

    Call :func:`finalise` after the last file of a batch (``cscflow.sources.load`` does).

    >>> import tempfile, pandas as pd
    >>> from cscflow.sources.base import ReadResult
    >>> ws = Workspace(tempfile.mkdtemp(), la="886")
    >>> r = ReadResult(source="a.csv", format="events", rows_read=1, rows_loaded=1)
    >>> r.episodes = pd.DataFrame({"source_child_id": ["C1"], "stage": ["referral"],
    ...                            "start": ["2020-01-02"], "source_row": [1]})
    >>> ingest(ws, r).stays_written, ws.count("episodes")
    (1, 1)
    """
    return ingest_many(ws, [result])[0]


def ingest_many(ws: Workspace, results: list[ReadResult]) -> list[SourceReport]:
    """Write several reader results at once (a handful of engine queries however many files).

    Sources are ranked in the order given (after anything loaded before): when two sources
    report the same stay, the earlier keeps it.
    """
    ensure_internal(ws)
    if not results:
        return []
    names = [r.source for r in results]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SourceError(f"two files named {twice[0]!r} in one load",
                          hint="load them separately, or give their folders so they are named by folder")
    srcs = ws.table("_sources")
    before = set(srcs.filter(srcs.source.isin(names)).source.execute())
    for table in _BY_SOURCE if before else ():
        _delete_sources(ws, table, sorted(before))
    seq = ws.table("_sources").load_seq.max().execute()
    seq0 = 1 if seq is None or pd.isna(seq) else int(seq) + 1
    reports, kids, idents, procs, eps, quar, reps = [], [], [], [], [], [], []
    for k, result in enumerate(results):
        reports.append(SourceReport(
            file=result.source, format=result.format, rows_read=int(result.rows_read),
            rows_loaded=int(result.rows_loaded), rows_quarantined=result.rows_quarantined,
            rows_repaired=result.rows_repaired,
        ))
        pseudo = _Pseudonyms(ws, _la_map(result))
        sc, allc = _children_frame(ws, result, pseudo, seq0 + k)
        kids.append(sc)
        idents.append(_identifiers_frame(result, pseudo, allc))
        p, pi = _proceedings_frames(result, pseudo)
        procs.append(p)
        idents.append(pi)
        eps.append(_episodes_table(ws, result, pseudo, seq0 + k))
        quar.append(_quarantine_frame(result))
        reps.append(_repairs_frame(result))
    for name, frames in (("_source_children", kids), ("identifiers", idents), ("proceedings", procs),
                         ("quarantine", quar), ("_repairs", reps)):
        frames = [f for f in frames if f is not None and not f.empty]
        if frames:
            ws.write(name, pd.concat(frames, ignore_index=True))
    eps = [e for e in eps if e is not None and e.num_rows]
    stats = _write_episodes(ws, pa.concat_tables(eps)) if eps else {}
    conflicts = _conflicts(ws, names)
    rows = []
    for k, (result, report) in enumerate(zip(results, reports, strict=True)):
        written, dups, examples = stats.get(result.source, (0, 0, []))
        report.stays_written, report.duplicate_stays = written, dups
        problems = _quarantine_problems(result) + _repair_problems(result)
        if dups:
            problems.append(_problem("stay already loaded from another source", dups, examples))
        problems += conflicts.get(result.source, [])
        problems += [_problem(w, 1, []) for w in result.warnings]
        if not report.accounted:
            gap = report.rows_read - report.rows_loaded - report.rows_quarantined
            problems.append(_problem("rows not accounted for", abs(gap), [{
                "file": result.source, "why": f"read {report.rows_read}, loaded {report.rows_loaded}, "
                f"quarantined {report.rows_quarantined}", "how_to_fix": "report this as a cscflow bug"}]))
        report.problems = problems
        row = {k2: v for k2, v in report.to_dict().items() if k2 in _SOURCES_SCHEMA.names}
        row.update(source=result.source, load_seq=seq0 + k, loaded_at=dt.datetime.now().replace(microsecond=0),
                   report=json.dumps(report.to_dict(), default=str))
        rows.append({c: row[c] for c in _SOURCES_SCHEMA.names})
    ws.write("_sources", pd.DataFrame(rows))
    return reports


def _la_map(result: ReadResult) -> dict[str, str]:
    ch = result.children
    if ch is None or ch.empty or "la" not in ch.columns:
        return {}
    ids = map_values(ch["source_child_id"], clean_id)
    las = ch["la"].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    return {i: a for i, a in zip(ids, las, strict=True) if i and a}


def _nullable(values: Any) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT else v for v in values]


def _children_frame(
    ws: Workspace, result: ReadResult, pseudo: _Pseudonyms, load_seq: int
) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """(rows for ``_source_children``, this source's children with source ids and birth dates)."""
    ch = result.children if result.children is not None else pd.DataFrame()
    frames = []
    if not ch.empty:
        ids = map_values(ch["source_child_id"], clean_id)
        keep = ids.notna().to_numpy()
        ch, ids = ch[keep], ids[keep]
        frames.append(pd.DataFrame({
            "source_child_id": ids.to_numpy(),
            "la": ch["la"].to_numpy() if "la" in ch else None,
            "sex": map_values(ch["sex"], sex_code).to_numpy() if "sex" in ch else "U",
            "ethnicity": ch["ethnicity"].to_numpy() if "ethnicity" in ch else None,
            "birth_date": (parse_dates(ch["birth_date"]) if "birth_date" in ch
                           else pd.Series(pd.NaT, index=ch.index, dtype="datetime64[us]")).to_numpy(),
            "disability": ch["disability"].to_numpy() if "disability" in ch else None,
            "uasc": ch["uasc"].to_numpy() if "uasc" in ch else None,
            "attrs": [_json_text(v) for v in ch["attrs"]] if "attrs" in ch else None,
        }))
    # Children named only in episodes or proceedings (e.g. an event log) still get a row.
    known = set(frames[0]["source_child_id"]) if frames else set()
    extra = [i for i in _episode_child_ids(result) if i not in known]
    if extra:
        frames.append(pd.DataFrame({"source_child_id": extra, "sex": "U"}))
    if not frames:
        return None, pd.DataFrame(columns=["source_child_id", "child_id", "birth_date"])
    allc = pd.concat(frames, ignore_index=True)
    allc["child_id"] = pseudo(pa.array(allc["source_child_id"].astype(object).tolist(), pa.string())).to_pylist()
    la = allc["la"] if "la" in allc else pd.Series(None, index=allc.index, dtype=object)
    la = la.where(la.notna() & (la.astype(str) != ""), ws.la or None).astype(object)
    birth = pd.to_datetime(allc["birth_date"]) if "birth_date" in allc else pd.Series(pd.NaT, index=allc.index)
    out = pd.DataFrame({
        "source": result.source,
        "load_seq": load_seq,
        "child_id": allc["child_id"],
        "la": la,
        "sex": allc["sex"].fillna("U"),
        "ethnicity": _nullable(allc["ethnicity"]) if "ethnicity" in allc else None,
        "birth_month": _nullable(birth.dt.to_period("M").dt.start_time.dt.date),
        "disability": [None if v is None else bool(v) for v in _nullable(allc.get("disability", [None] * len(allc)))],
        "uasc": [None if v is None else bool(v) for v in _nullable(allc.get("uasc", [None] * len(allc)))],
        "attrs": _nullable(allc["attrs"]) if "attrs" in allc else None,
    })
    return out.drop_duplicates(), allc


def _episode_child_ids(result: ReadResult) -> list[str]:
    ep = result.episodes
    if ep is None:
        return []
    if isinstance(ep, pa.Table):
        if ep.num_rows == 0:
            return []
        col = pc.cast(ep.column("source_child_id"), pa.string())
        return [v for v in pc.unique(col).to_pylist() if v]
    if ep.empty:
        return []
    return [v for v in map_values(ep["source_child_id"], clean_id).dropna().unique().tolist()]


def _identifiers_frame(result: ReadResult, pseudo: _Pseudonyms, children: pd.DataFrame) -> pd.DataFrame | None:
    idf = result.identifiers
    frames = []
    if idf is not None and not idf.empty:
        frames.append(pd.DataFrame({
            "source_child_id": map_values(idf["source_child_id"], clean_id).to_numpy(),
            "upn": idf["upn"].to_numpy() if "upn" in idf else None,
            "surname": idf["surname"].to_numpy() if "surname" in idf else None,
            "forenames": idf["forenames"].to_numpy() if "forenames" in idf else None,
            "birth_date": parse_dates(idf["birth_date"]).to_numpy() if "birth_date" in idf else pd.NaT,
        }))
    if "birth_date" in children and not children.empty:  # every child's DOB from this source
        have = set(frames[0]["source_child_id"]) if frames else set()
        more = children[~children["source_child_id"].isin(have) & children["birth_date"].notna()]
        if not more.empty:
            frames.append(more[["source_child_id", "birth_date"]])
    if not frames:
        return None
    out = pd.concat(frames, ignore_index=True)
    out = out[out["source_child_id"].notna()].drop_duplicates()
    out["child_id"] = pseudo(pa.array(out["source_child_id"].astype(object).tolist(), pa.string())).to_pylist()
    out["source"] = result.source
    out["birth_date"] = _nullable(pd.to_datetime(out["birth_date"]).dt.date)
    return out


def _proceedings_frames(result: ReadResult, pseudo: _Pseudonyms) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    pr = result.proceedings
    if pr is None or pr.empty:
        return None, None
    tag = _source_tag(result.source)
    keys = pr["proceedings_key"] if "proceedings_key" in pr else pr["source_row"]
    pid = [f"P{tag}-{clean_id(k) or i}" for i, k in enumerate(keys)]
    child = (pseudo(pa.array(map_values(pr["source_child_id"], clean_id).tolist(), pa.string())).to_pylist()
             if "source_child_id" in pr else None)

    def day(col: str) -> Any:
        return _nullable(parse_dates(pr[col]).dt.date) if col in pr else None

    out = pd.DataFrame({
        "proceedings_id": pid,
        "child_id": child,
        "application_date": day("application_date"),
        "final_order_date": day("final_order_date"),
        "order": pr["order"].to_numpy() if "order" in pr else None,
        "court": pr["court"].to_numpy() if "court" in pr else None,
        "attrs": [_json_text(v) for v in pr["attrs"]] if "attrs" in pr else None,
        "source": result.source,
        "source_row": pd.to_numeric(pr["source_row"], errors="coerce").astype("Int64"),
    })
    # Names and birth dates of the children in proceedings go to identifiers (restricted), keyed by
    # proceedings_id (as source_child_id) until linkage finds the child.
    if not any(c in pr for c in ("surname", "forenames", "birth_date")):
        return out, None
    idf = pd.DataFrame({
        "child_id": child,
        "source": result.source,
        "source_child_id": pid,
        "surname": pr["surname"].to_numpy() if "surname" in pr else None,
        "forenames": pr["forenames"].to_numpy() if "forenames" in pr else None,
        "birth_date": day("birth_date"),
    })
    return out, idf


def _repeat(value: str, n: int) -> pa.Array:
    """``value`` n times as a string array (built in C, not as a Python list)."""
    return pc.cast(pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value])),
                   pa.string())


def _episodes_table(ws: Workspace, result: ReadResult, pseudo: _Pseudonyms, load_seq: int) -> pa.Table | None:
    ep = result.episodes
    if ep is None or (isinstance(ep, pa.Table) and ep.num_rows == 0) or (isinstance(ep, pd.DataFrame) and ep.empty):
        return None
    tab = episodes_arrow(ep)
    tab = tab.filter(pc.is_valid(tab.column("source_child_id")))
    n = tab.num_rows
    ids = pc.binary_join_element_wise(_repeat(_source_tag(result.source), n),
                                      pc.cast(pa.array(np.arange(n)), pa.string()), "-")
    worker = tab.column("worker").combine_chunks()
    if worker.null_count < n:
        wv = pc.unique(worker)
        hashed = pa.array(list(ws.pseudonymise(wv.to_pylist(), la=f"worker:{ws.la}")), pa.string())
        worker = pc.take(hashed, pc.index_in(worker, value_set=wv))
    return pa.table({
        "episode_id": ids,
        "child_id": pseudo(tab.column("source_child_id")),
        "stage": tab.column("stage"),
        "start": tab.column("start"),
        "end": tab.column("end"),
        "outcome": tab.column("outcome"),
        "need_key": tab.column("need_key"),
        "team": tab.column("team"),
        "worker": worker,
        "attrs": tab.column("attrs"),
        "source": _repeat(result.source, n),
        "source_row": tab.column("source_row"),
        "load_seq": pa.array(np.full(n, load_seq, dtype=np.int64)),
    })


def _keyed_need(t: ibis.Table) -> ibis.Table:
    """need_id from the source's own key: the date of the referral with that key in the same source.

    Keys without a referral there (e.g. one SSD table per stage) fall back to the date rule.
    """
    keyed = t.filter(t.need_key.notnull() & (t.stage == "referral"))
    refs = keyed.group_by(["source", "child_id", "need_key"]).aggregate(ref_day=keyed.day.min())
    refs = refs.rename(k_src="source", k_child="child_id", k_key="need_key")
    t = t.left_join(refs, [t.source == refs.k_src, t.child_id == refs.k_child, t.need_key == refs.k_key])
    return t.mutate(need_id=_need(t.child_id, t.ref_day))


def _write_first(ws: Workspace, t: ibis.Table) -> dict[str, tuple[int, int, list[dict]]]:
    """One source into an empty episodes table: nothing to de-duplicate against, one pass."""
    if int(t.need_key.count().execute()):
        ws.con.create_table("_keyed_incoming", _keyed_need(t), overwrite=True, temp=True)
        t = ws.con.table("_keyed_incoming")
    else:
        t = t.mutate(need_id=ibis.null(str))
    cols = list(ws.table("episodes").columns)
    refs = t.filter(t.stage == "referral").select(r_child=t.child_id, r_day=t.day).distinct()
    keyed, free = t.filter(t.need_id.notnull()), t.filter(t.need_id.isnull())
    j = free.asof_join(refs, on=free.day >= refs.r_day, predicates=free.child_id == refs.r_child)
    j = j.mutate(need_id=_need(j.child_id, j.r_day))
    ws.con.insert("episodes", keyed.select(cols).union(j.select(cols), distinct=False))
    ws.con.insert("_need_keyed", keyed.select("source", "episode_id"))
    n = ws.count("episodes")
    source = ws.table("episodes").source.max().execute()
    ws.con.drop_table("_incoming_episodes", force=True)
    ws.con.drop_table("_keyed_incoming", force=True)
    return {source: (n, 0, [])}


def _write_episodes(ws: Workspace, inc: pa.Table) -> dict[str, tuple[int, int, list[dict]]]:
    """Write staged episodes; returns per source (stays written, duplicates dropped, examples)."""
    ws.con.create_table("_incoming_episodes", inc, overwrite=True, temp=True)
    t = ws.con.table("_incoming_episodes")
    t = t.mutate(day=t.start.date())
    ep = ws.table("episodes")
    if len(set(inc.column("source").unique().to_pylist())) == 1 and int(ep.count().execute()) == 0:
        return _write_first(ws, t)
    t = _keyed_need(t)
    # The same stay (child, stage, start date) from several sources: the earliest-loaded source keeps it.
    src = ws.table("_sources")
    srcs = src.select(s_src=src.source, s_seq=src.load_seq)
    old = ep.join(srcs, ep.source == srcs.s_src)
    old = old.select(k_child=old.child_id, k_stage=old.stage, k_day=old.start.date(), k_seq=old.s_seq)
    new = t.select(k_child=t.child_id, k_stage=t.stage, k_day=t.day, k_seq=t.load_seq)
    keys = old.union(new, distinct=False)
    keys = keys.group_by(["k_child", "k_stage", "k_day"]).aggregate(min_seq=keys.k_seq.min())
    t = t.left_join(keys, [t.child_id == keys.k_child, t.stage == keys.k_stage, t.day == keys.k_day])
    t = t.mutate(dup=t.load_seq > t.min_seq, keyed=t.need_id.notnull())
    cols = list(ep.columns)
    ws.con.create_table("_staged_episodes", t.select(*cols, "day", "dup", "keyed"), overwrite=True, temp=True)
    st = ws.con.table("_staged_episodes")
    counts = st.group_by("source").aggregate(n=st.count(), dups=st.dup.sum()).execute()
    d = st.filter(st.dup)
    d = d.mutate(rn=ibis.row_number().over(group_by=d.source, order_by=d.source_row))
    ex = d.filter(d.rn < EXAMPLES).select("source", "source_row", "stage", "day").execute()
    # Referral days before and after this load; children with new ones may need earlier stays re-attached.
    ep_ref = ep.filter(ep.stage == "referral")
    ep_ref = ep_ref.select(r_child=ep_ref.child_id, r_day=ep_ref.start.date()).distinct()
    in_ref = st.filter(st.stage == "referral").select(r_child=st.child_id, r_day=st.day).distinct()
    ws.con.create_table("_new_referrals", in_ref.anti_join(ep_ref, ["r_child", "r_day"]).select("r_child")
                        .distinct(), overwrite=True, temp=True)
    refs = ep_ref.union(in_ref, distinct=True)
    keep = st.filter(~st.dup)
    free = keep.filter(~keep.keyed)
    j = free.asof_join(refs, on=free.day >= refs.r_day, predicates=free.child_id == refs.r_child)
    j = j.mutate(need_id=_need(j.child_id, j.r_day))
    ws.con.insert("episodes", keep.filter(keep.keyed).select(cols).union(j.select(cols), distinct=False))
    ws.con.insert("_need_keyed", keep.filter(keep.keyed).select("source", "episode_id"))
    _reattach(ws, sorted(set(counts.source)))
    for name in ("_staged_episodes", "_new_referrals"):
        ws.con.drop_table(name, force=True)
    ws.con.drop_table("_incoming_episodes", force=True)
    out = {}
    for r in counts.itertuples():
        examples = [
            {"file": r.source, "row": None if pd.isna(x.source_row) else int(x.source_row), "column": "start",
             "value": str(x.day)[:10], "why": f"this {x.stage} stay was already loaded from another source",
             "how_to_fix": "nothing to do: it is counted once"}
            for x in ex[ex.source == r.source].itertuples()
        ]
        out[r.source] = (int(r.n) - int(r.dups or 0), int(r.dups or 0), examples)
    return out


def _need(child: ibis.Column, day: ibis.Column) -> ibis.Column:
    return ibis.ifelse(day.isnull(), ibis.null(str), child + "-" + day.strftime("%Y%m%d"))


def _reattach(ws: Workspace, batch: list[str]) -> None:
    """Re-attach earlier-loaded stays of children who gained a referral in this load (DuckDB: UPDATE)."""
    newref = ws.con.table("_new_referrals")
    if ws.engine != "duckdb":  # pragma: no cover - Spark: rebuild instead
        assign_needs(ws)
        return
    ep, keyed = ws.table("episodes"), ws.table("_need_keyed")
    fx = ep.filter(~ep.source.isin(batch)).semi_join(newref, ep.child_id == newref.r_child)
    fx = fx.anti_join(keyed, fx.episode_id == keyed.episode_id)
    fx = fx.mutate(day=fx.start.date())
    refs = ep.filter(ep.stage == "referral")
    refs = refs.select(r_child=refs.child_id, r_day=refs.start.date()).distinct()
    j = fx.asof_join(refs, on=fx.day >= refs.r_day, predicates=fx.child_id == refs.r_child)
    j = j.select(f_id=j.episode_id, f_need=_need(j.child_id, j.r_day))
    ws.con.create_table("_need_fix", j, overwrite=True, temp=True)
    ws.con.con.execute(
        'UPDATE episodes SET need_id = f.f_need FROM _need_fix f '
        'WHERE episodes.episode_id = f.f_id AND episodes.need_id IS DISTINCT FROM f.f_need'
    )
    ws.con.drop_table("_need_fix", force=True)


def _quarantine_frame(result: ReadResult) -> pd.DataFrame | None:
    q = result.quarantine
    if q is None or q.empty:
        return None
    return pd.DataFrame({
        "source": result.source,
        "source_row": pd.to_numeric(q["source_row"], errors="coerce").astype("Int64"),
        "column": [None if is_blank(v) else str(v) for v in q["column"]],
        "value": [None if is_blank(v) else str(v)[:200] for v in q["value"]],
        "problem": q["problem"].astype(str),
        "hint": [None if is_blank(v) else str(v) for v in q["hint"]],
    })


def _repairs_frame(result: ReadResult) -> pd.DataFrame | None:
    r = result.repairs
    if r is None or r.empty:
        return None
    return pd.DataFrame({
        "source": result.source,
        "source_row": pd.to_numeric(r["source_row"], errors="coerce").astype("Int64"),
        "repair": r["repair"].astype(str),
        "detail": [None if is_blank(v) else str(v) for v in r["detail"]],
    })


def _quarantine_problems(result: ReadResult) -> list[dict[str, Any]]:
    q = result.quarantine
    if q is None or q.empty:
        return []
    out = []
    for problem, grp in q.groupby("problem", sort=False):
        ex = [
            {"file": result.source, "row": None if pd.isna(r.source_row) else int(r.source_row),
             "column": r.column, "value": None if is_blank(r.value) else str(r.value)[:80],
             "why": problem, "how_to_fix": r.hint}
            for r in grp.head(EXAMPLES).itertuples()
        ]
        out.append(_problem(str(problem), grp["source_row"].nunique(), ex))
    return sorted(out, key=lambda p: -p["count"])


def _repair_problems(result: ReadResult) -> list[dict[str, Any]]:
    r = result.repairs
    if r is None or r.empty:
        return []
    out = []
    for repair, grp in r.groupby("repair", sort=False):
        ex = [
            {"file": result.source, "row": None if pd.isna(x.source_row) else int(x.source_row),
             "why": f"repaired: {repair}", "detail": x.detail, "how_to_fix": "check the source record"}
            for x in grp.head(EXAMPLES).itertuples()
        ]
        out.append(_problem(f"repaired: {repair}", len(grp), ex))
    return out


# ------------------------------------------------------------------------------ conflicts

_FIX = "correct the record in the source system; the first source loaded is used"


def _conflicts(ws: Workspace, sources: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per source: children whose sex or date of birth differs between sources (or within one).

    Examples name the pseudonymised child and the sources, never the dates of birth themselves.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    sc = ws.table("_source_children")
    known = sc.filter(sc.sex.isin(["M", "F"]))
    bad = known.group_by("child_id").aggregate(n=known.sex.nunique())
    bad = bad.filter(bad.n > 1)
    rows = known.semi_join(bad, "child_id").select("child_id", "source", "sex").distinct().execute()
    if not rows.empty:
        for src in sources:
            kids = sorted(set(rows.child_id[rows.source == src]))
            if kids:
                ex = [{"child_id": c, "why": "sex differs: " + ", ".join(
                    f"{x.sex} in {x.source}" for x in rows[rows.child_id == c].itertuples()), "how_to_fix": _FIX}
                      for c in kids[:EXAMPLES]]
                out.setdefault(src, []).append(_problem("conflicting sex", len(kids), ex))
    idf = ws.table("identifiers")
    idf = idf.filter(idf.birth_date.notnull() & idf.child_id.notnull())
    bad = idf.group_by("child_id").aggregate(n=idf.birth_date.nunique())
    bad = bad.filter(bad.n > 1)
    rows = idf.semi_join(bad, "child_id").select("child_id", "source", "birth_date").distinct().execute()
    if not rows.empty:
        for src in sources:
            kids = sorted(set(rows.child_id[rows.source == src]))
            if kids:
                ex = []
                for c in kids[:EXAMPLES]:
                    g = rows[rows.child_id == c]
                    days = (pd.to_datetime(g.birth_date).max() - pd.to_datetime(g.birth_date).min()).days
                    ex.append({"child_id": c, "why": f"date of birth differs by up to {days} days between "
                               f"{', '.join(sorted(set(g.source)))}", "how_to_fix": _FIX})
                out.setdefault(src, []).append(_problem("conflicting date of birth", len(kids), ex))
    return out


# -------------------------------------------------------------------------------- finalise


def finalise(ws: Workspace) -> None:
    """Rebuild ``children`` from every source's view (need_id is assigned while stays are written)."""
    ensure_internal(ws)
    rebuild_children(ws)


def rebuild_children(ws: Workspace) -> None:
    """One row per child: each field from the earliest-loaded source that has it."""
    sc = ws.table("_source_children")
    order = sc.load_seq

    def first(col: ibis.Column, where: ibis.BooleanValue | None = None) -> ibis.Scalar:
        cond = col.notnull() if where is None else (col.notnull() & where)
        return col.first(where=cond, order_by=order)

    agg = sc.group_by("child_id").aggregate(
        la=first(sc.la, sc.la != ""),
        sex=first(sc.sex, sc.sex.isin(["M", "F"])),
        ethnicity=first(sc.ethnicity, sc.ethnicity != ""),
        birth_month=first(sc.birth_month),
        disability=first(sc.disability),
        uasc=first(sc.uasc),
        attrs=first(sc.attrs),
    )
    agg = agg.mutate(sex=agg.sex.fill_null("U"))
    ws.write("children", agg, mode="replace")


def assign_needs(ws: Workspace) -> None:
    """Recompute every unkeyed need_id by rebuilding ``episodes`` (engines without UPDATE).

    The need of a stay without a source key is the child's latest referral starting on or before it.
    """
    ep = ws.table("episodes")
    if int(ep.count().execute()) == 0:
        return
    keyed = ws.table("_need_keyed")
    cols = list(ep.columns)
    refs = ep.filter(ep.stage == "referral")
    refs = refs.select(r_child=refs.child_id, r_day=refs.start.date()).distinct()
    fixed = ep.semi_join(keyed, ep.episode_id == keyed.episode_id)
    free = ep.anti_join(keyed, ep.episode_id == keyed.episode_id)
    free = free.mutate(_day=free.start.date())
    j = free.asof_join(refs, on=free._day >= refs.r_day, predicates=free.child_id == refs.r_child)
    j = j.mutate(
        need_id=ibis.ifelse(j.r_day.isnull(), ibis.null(str), j.child_id + "-" + j.r_day.strftime("%Y%m%d"))
    )
    new = fixed.select(cols).union(j.select(cols))
    ws.con.create_table("_episodes_rebuilt", new, overwrite=True)
    ws.con.create_table("episodes", ws.con.table("_episodes_rebuilt"), overwrite=True)
    ws.con.drop_table("_episodes_rebuilt")
