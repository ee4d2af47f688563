"""Load stage 6, children: children, identifiers and proceedings of each source, pseudonymised; conflicts; the
merged ``children``.

Each source's view of a child goes to ``_source_children`` (one row per child per source);
:func:`rebuild_children` merges them (each field from the earliest-loaded source that has it)
and :func:`conflicts` reports children whose sex or date of birth differs between sources.
LA child ids are pseudonymised once per distinct id (:class:`~cscflow.sources.load.pseudonymise.Pseudonyms`).

>>> import tempfile
>>> from cscflow.workspace import Workspace
>>> from cscflow.sources.load.pseudonymise import Pseudonyms
>>> ws = Workspace(tempfile.mkdtemp(), la="886")
>>> r = ReadResult(source="a.csv", format="annex-a")
>>> r.children = pd.DataFrame({"source_child_id": ["C1"], "sex": ["F"]})
>>> sc, _ = source_children(ws, r, Pseudonyms(ws, {}), 1, None)
>>> sc.column("sex").to_pylist()
['F']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cscflow.sources.base import ReadResult
from cscflow.sources.load.identity import Plan
from cscflow.sources.load.internal import write_frames
from cscflow.sources.load.pseudonymise import Pseudonyms, json_text, repeat, source_tag
from cscflow.sources.load.report import EXAMPLES, problem
from cscflow.sources.load.staging import Staged
from cscflow.sources.values import clean_id, map_values, parse_dates, sex_code

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

SOURCE_CHILDREN_ARROW = pa.schema([
    ("source", pa.string()), ("load_seq", pa.int64()), ("child_id", pa.string()), ("la", pa.string()),
    ("sex", pa.string()), ("ethnicity", pa.string()), ("birth_month", pa.date32()), ("disability", pa.bool_()),
    ("uasc", pa.bool_()), ("attrs", pa.string()),
])
_FIX = "correct the record in the source system; the first source loaded is used"


def _nullable(values: Any) -> list[Any]:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT else v for v in values]


def _case_attrs(ch: pd.DataFrame, stay_ids: pa.Table) -> pa.Array:
    """An event log's case attributes (``source_child_id``, ``attrs``: one row per child, the ids exactly as
    in its stays) in the order of ``stay_ids``; null where a child has none."""
    if ch.empty or "attrs" not in ch:
        return pa.nulls(stay_ids.num_rows, pa.string())
    case = pa.table({"sid": pa.array(ch["source_child_id"].astype(object), pa.string()),
                     "attrs": pa.array(ch["attrs"].astype(object), pa.string())})
    at = pc.index_in(stay_ids.column("sid"), value_set=case.column("sid"))
    return pc.take(case.column("attrs"), at)


def source_children(
    ws: WorkspaceLike, result: ReadResult, pseudo: Pseudonyms, load_seq: int, stay_ids: pa.Table | None
) -> tuple[pa.Table | None, pd.DataFrame]:
    """(rows for ``_source_children``, this source's children with source ids and birth dates).

    ``stay_ids`` (``sid``, ``child_id``) are the children named in the source's stays: those the
    source does not describe still get a row (e.g. every child of an event log).
    """
    ch = result.children if result.children is not None else pd.DataFrame()
    empty = pd.DataFrame(columns=["source_child_id", "child_id", "birth_date"])
    if ch.empty or result.format == "events":  # an event log: children are the stays' ids, built in Arrow
        if stay_ids is None or not stay_ids.num_rows:
            return None, empty
        n = stay_ids.num_rows
        cols = {"source": repeat(result.source, n), "load_seq": repeat(load_seq, n, pa.int64()),
                "child_id": stay_ids.column("child_id"), "sex": repeat("U", n), "attrs": _case_attrs(ch, stay_ids),
                "la": pa.array([pseudo.la(s) for s in stay_ids.column("sid").to_pylist()], pa.string())
                if ws.multi_la else pa.nulls(n, pa.string()) if not ws.la else repeat(ws.la, n)}
        return pa.table({f.name: cols.get(f.name, pa.nulls(n, f.type)) for f in SOURCE_CHILDREN_ARROW},
                        schema=SOURCE_CHILDREN_ARROW), empty
    ids = map_values(ch["source_child_id"], clean_id)
    keep = ids.notna().to_numpy()
    ch, ids = ch[keep], ids[keep]
    frames = [pd.DataFrame({
        "source_child_id": ids.to_numpy(),
        "la": ch["la"].to_numpy() if "la" in ch else None,
        "sex": map_values(ch["sex"], sex_code).to_numpy() if "sex" in ch else "U",
        "ethnicity": ch["ethnicity"].to_numpy() if "ethnicity" in ch else None,
        "birth_date": (parse_dates(ch["birth_date"]) if "birth_date" in ch
                       else pd.Series(pd.NaT, index=ch.index, dtype="datetime64[us]")).to_numpy(),
        "disability": ch["disability"].to_numpy() if "disability" in ch else None,
        "uasc": ch["uasc"].to_numpy() if "uasc" in ch else None,
        "attrs": [json_text(v) for v in ch["attrs"]] if "attrs" in ch else None,
    })]
    # Children named only in stays or proceedings still get a row.
    known = set(frames[0]["source_child_id"])
    named = [] if stay_ids is None else stay_ids.column("sid").to_pylist()
    extra = [i for i in named if i not in known]
    if extra:
        frames.append(pd.DataFrame({"source_child_id": extra, "sex": "U"}))
    allc = pd.concat(frames, ignore_index=True)
    allc["child_id"] = pseudo(pa.array(allc["source_child_id"].astype(object).tolist(), pa.string())).to_pylist()
    if ws.multi_la:
        la = pd.Series([pseudo.la(s) for s in allc["source_child_id"]], index=allc.index, dtype=object)
    else:  # one LA: the workspace's (a file that states another was refused before the load)
        la = pd.Series(ws.la or None, index=allc.index, dtype=object)
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
    }).drop_duplicates()
    return pa.Table.from_pandas(out, schema=SOURCE_CHILDREN_ARROW, preserve_index=False), allc


def identifiers_frame(result: ReadResult, pseudo: Pseudonyms, children: pd.DataFrame) -> pd.DataFrame | None:
    """``identifiers`` rows: the source's UPNs and names, and every child's date of birth."""
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


def proceedings_frames(result: ReadResult, pseudo: Pseudonyms) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(``proceedings`` rows, ``identifiers`` rows of the children named in them)."""
    pr = result.proceedings
    if pr is None or pr.empty:
        return None, None
    tag = source_tag(result.source)
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
        "attrs": [json_text(v) for v in pr["attrs"]] if "attrs" in pr else None,
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


def conflicts(ws: WorkspaceLike, sources: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per source: children whose sex or date of birth differs between sources (or within one).

    Examples name the pseudonymised child and the sources, never the dates of birth themselves.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    sc = ws.table("_source_children")
    known = sc.filter(sc.sex.isin(["M", "F"]))
    sexes = _differing(known, "sex")

    def sex_differs(c: str) -> str:
        return "sex differs: " + ", ".join(f"{x.sex} in {x.source}" for x in sexes[sexes.child_id == c].itertuples())

    _report_per_source(out, sexes, sources, "conflicting sex", sex_differs)
    idf = ws.table("identifiers")
    births = _differing(idf.filter(idf.birth_date.notnull() & idf.child_id.notnull()), "birth_date")

    def birth_differs(c: str) -> str:
        g = births[births.child_id == c]
        days = (pd.to_datetime(g.birth_date).max() - pd.to_datetime(g.birth_date).min()).days
        return f"date of birth differs by up to {days} days between {', '.join(sorted(set(g.source)))}"

    _report_per_source(out, births, sources, "conflicting date of birth", birth_differs)
    return out


def _differing(t: Any, column: str) -> pd.DataFrame:
    """(child_id, source, ``column``) of the children with more than one value of ``column``."""
    bad = t.group_by("child_id").aggregate(n=t[column].nunique())
    bad = bad.filter(bad.n > 1)
    return t.semi_join(bad, "child_id").select("child_id", "source", column).distinct().execute()


def _report_per_source(out: dict[str, list[dict[str, Any]]], rows: pd.DataFrame, sources: list[str], name: str,
                       why: Callable[[str], str]) -> None:
    """Add problem ``name`` to each source with children in ``rows``; ``why(child_id)`` explains an example."""
    for src in sources:
        kids = sorted(set(rows.child_id[rows.source == src]))
        if kids:
            ex = [{"child_id": c, "why": why(c), "how_to_fix": _FIX} for c in kids[:EXAMPLES]]
            out.setdefault(src, []).append(problem(name, len(kids), ex))


DIRTY = "_dirty_children"


def mark_dirty(ws: WorkspaceLike, child_ids: pa.Array | None = None, sources: list[str] | None = None) -> None:
    """Remember children whose merged row must be rebuilt (DuckDB: a temp table of this connection)."""
    if not ws.in_place:  # pragma: no cover - Spark rebuilds every child
        return
    ws.sql(f"CREATE TEMP TABLE IF NOT EXISTS {DIRTY} (child_id VARCHAR)")
    if sources:
        marks = ", ".join("?" for _ in sources)
        ws.sql(f"INSERT INTO {DIRTY} SELECT DISTINCT child_id FROM _source_children WHERE source IN ({marks})",
               list(sources))
    if child_ids is not None and len(child_ids):
        ws.register("_dirty_new", pa.table({"child_id": pc.unique(child_ids)}))
        ws.sql(f"INSERT INTO {DIRTY} SELECT child_id FROM _dirty_new")
        ws.unregister("_dirty_new")


def rebuild_children(ws: WorkspaceLike) -> None:
    """One row per child: each field from the earliest-loaded source that has it.

    Only the children of the sources loaded or replaced since the last rebuild are rebuilt
    (``DELETE`` + ``INSERT``) when the workspace already has children; otherwise all of them.
    """
    dirty = None
    if ws.in_place and ws.has_table(DIRTY) and ws.count("children"):
        dirty = ws.table(DIRTY)
    sc = ws.table("_source_children")
    if dirty is not None:
        sc = sc.semi_join(dirty, sc.child_id == dirty.child_id)
    order = sc.load_seq

    def first(col: ibis.Column, where: ibis.BooleanValue | None = None) -> ibis.Scalar:
        cond = col.notnull() if where is None else (col.notnull() & where)
        return col.argmin(order, where=cond)  # the value of the earliest-loaded source that has one

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
    if ws.la and not ws.multi_la:  # one LA: every child's, also those loaded before it was learnt
        agg = agg.mutate(la=ibis.literal(ws.la, type="string"))
    if dirty is None:
        ws.write("children", agg, mode="replace")
    else:
        ws.sql(f"DELETE FROM children WHERE child_id IN (SELECT child_id FROM {DIRTY})")
        ws.write("children", agg)
    if ws.in_place:
        ws.sql(f"DROP TABLE IF EXISTS {DIRTY}")


def write_children(ws: WorkspaceLike, results: list[ReadResult], pseudos: list[Pseudonyms], staged: Staged,
                   plan: Plan) -> dict[str, list[dict[str, Any]]]:
    """Write each source's children, identifiers and proceedings; rebuild ``children`` for the children
    concerned; the conflicts found per source (sex or date of birth differing between sources)."""
    kids, idents, procs = [], [], []
    for k, (result, pseudo) in enumerate(zip(results, pseudos, strict=True)):
        sc, allc = source_children(ws, result, pseudo, plan.seq0 + k, staged.id_maps[k])
        kids.append(sc)
        idents.append(identifiers_frame(result, pseudo, allc))
        p, pi = proceedings_frames(result, pseudo)
        procs.append(p)
        idents.append(pi)
    if plan.dirty_sources:
        mark_dirty(ws, sources=plan.dirty_sources)
    for ids in plan.dirty:
        mark_dirty(ws, ids)
    new_kids = [k.column("child_id") for k in kids if k is not None and k.num_rows]
    if new_kids:
        mark_dirty(ws, pa.chunked_array(new_kids).combine_chunks())
    for name, frames in (("_source_children", kids), ("identifiers", idents), ("proceedings", procs)):
        write_frames(ws, name, frames)
    found = conflicts(ws, [r.source for r in results])
    rebuild_children(ws)
    return found
