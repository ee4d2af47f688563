"""Write what readers return into a workspace: pseudonymise, merge, de-duplicate, report.

:func:`ingest_many` writes a whole load (every file) in a handful of engine queries:

- replaces anything loaded earlier from the same files (``DELETE`` by source: reloading never
  duplicates, and nothing else is rewritten);
- pseudonymises LA child ids with the workspace key, once per distinct id
  (:mod:`cscflow.sources.load_children`);
- writes the stays with one ``INSERT ... SELECT``: duplicates of stays loaded from another
  source dropped, ``need_id`` attached, earlier stays re-attached (:mod:`cscflow.sources.load_stays`);
- keeps each source's view of a child in ``_source_children`` so that conflicting sex or date of
  birth across sources is reported, never silently overwritten;
- writes ``identifiers``, ``proceedings``, ``quarantine`` and a per-source report in ``_sources``
  (:mod:`cscflow.sources.report`).

:func:`finalise` then rebuilds ``children`` (first non-missing value per field, in load order).
:func:`cscflow.sources.load` calls both.

Internal tables (underscore names, never served): ``_sources``, ``_source_children``,
``_repairs``, ``_need_keyed``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import ibis
import pandas as pd
import pyarrow as pa

from cscflow.errors import SourceError
from cscflow.sources.base import ReadResult
from cscflow.sources.load_children import (
    Pseudonyms,
    conflicts,
    identifiers_frame,
    la_map,
    mark_dirty,
    proceedings_frames,
    rebuild_children,
    source_children,
)
from cscflow.sources.load_stays import assign_needs, episodes_arrow, staged_stays, write_stays
from cscflow.sources.report import (
    EXAMPLES,
    SourceReport,
    problem,
    quarantine_frame,
    quarantine_problems,
    repair_problems,
    repairs_frame,
    unaccounted_problem,
)
from cscflow.workspace import identity

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

__all__ = ["EXAMPLES", "INTERNAL", "SourceReport", "assign_needs", "ensure_internal", "episodes_arrow",
           "finalise", "ingest", "ingest_many", "rebuild_children"]

_SOURCES_SCHEMA = ibis.schema({
    "source": "string", "format": "string", "load_seq": "int64", "loaded_at": "timestamp", "rows_read": "int64",
    "rows_loaded": "int64", "rows_quarantined": "int64", "rows_repaired": "int64", "report": "string",
})
_SOURCE_CHILDREN_SCHEMA = ibis.schema({
    "source": "string", "load_seq": "int64", "child_id": "string", "la": "string", "sex": "string",
    "ethnicity": "string", "birth_month": "date", "disability": "boolean", "uasc": "boolean", "attrs": "string",
})
_REPAIRS_SCHEMA = ibis.schema({"source": "string", "source_row": "int64", "repair": "string", "detail": "string"})
_NEED_KEYED_SCHEMA = ibis.schema({"source": "string", "episode_id": "string"})
INTERNAL = {
    "_sources": _SOURCES_SCHEMA,
    "_source_children": _SOURCE_CHILDREN_SCHEMA,
    "_repairs": _REPAIRS_SCHEMA,
    "_need_keyed": _NEED_KEYED_SCHEMA,
}
_BY_SOURCE = ("episodes", "identifiers", "proceedings", "quarantine", *INTERNAL)


def ensure_internal(ws: WorkspaceLike) -> None:
    """Create the loader's internal tables if missing."""
    existing = set(ws.tables())
    for name, sch in INTERNAL.items():
        if name not in existing:
            ws.create_table(name, schema=sch)


def _delete_sources(ws: WorkspaceLike, table: str, sources: list[str]) -> None:
    ws.delete_in(table, "source", sources)


def ingest(ws: WorkspaceLike, result: ReadResult) -> SourceReport:
    """Write one reader result into the workspace, replacing earlier loads of the same file.

    Call :func:`finalise` after the last file of a batch (``cscflow.sources.load`` does).

    >>> import tempfile, pandas as pd
    >>> from cscflow import Workspace
    >>> ws = Workspace(tempfile.mkdtemp(), la="886")
    >>> r = ReadResult(source="a.csv", format="events", rows_read=1, rows_loaded=1)
    >>> r.episodes = pd.DataFrame({"source_child_id": ["C1"], "stage": ["referral"],
    ...                            "start": ["2020-01-02"], "source_row": [1]})
    >>> ingest(ws, r).stays_written, ws.count("episodes")
    (1, 1)
    """
    return ingest_many(ws, [result])[0]


def _write_frames(ws: WorkspaceLike, name: str, frames: list[pd.DataFrame | pa.Table | None]) -> None:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return
    if all(isinstance(f, pa.Table) for f in frames):
        ws.write(name, pa.concat_tables(frames))
    else:
        ws.write(name, pd.concat(frames, ignore_index=True))


def ingest_many(ws: WorkspaceLike, results: list[ReadResult], la: str | None = None) -> list[SourceReport]:
    """Write several reader results at once (a handful of engine queries however many files).

    Sources are ranked in the order given (after anything loaded before): when two sources
    report the same stay, the earlier keeps it. ``la`` is the LA of files that do not state one
    (``--la``); the LA of the workspace's pseudonyms is settled first
    (:func:`cscflow.workspace.identity.settle`), so a file of another LA is refused before anything
    is written.
    """
    ensure_internal(ws)
    if not results:
        return []
    la_maps = [la_map(r) for r in results]
    stated = {r.source: set(m.values()) for r, m in zip(results, la_maps, strict=True)}
    la_before = ws.la
    identity.settle(ws, set().union(*stated.values()), la, files=stated)
    if ws.la != la_before and not ws.multi_la:  # the LA just learnt: every child loaded before gets it
        mark_dirty(ws, sources=sorted(set(ws.table("_sources").source.execute())))
    names = [r.source for r in results]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SourceError(f"two files named {twice[0]!r} in one load",
                          hint="load them separately, or give their folders so they are named by folder")
    srcs = ws.table("_sources")
    known = srcs.aggregate(seq=srcs.load_seq.max(), again=srcs.source.isin(names).any()).execute().iloc[0]
    if known["again"] is True or known["again"] == 1:
        before = sorted(set(srcs.filter(srcs.source.isin(names)).source.execute()))
        mark_dirty(ws, sources=before)
        for table in _BY_SOURCE:
            _delete_sources(ws, table, before)
    seq0 = 1 if known["seq"] is None or pd.isna(known["seq"]) else int(known["seq"]) + 1
    reports, kids, idents, procs, stays, ids, quar, reps, named = [], [], [], [], [], [], [], [], []
    for k, result in enumerate(results):
        reports.append(SourceReport(
            file=result.source, format=result.format, rows_read=int(result.rows_read),
            rows_loaded=int(result.rows_loaded), rows_quarantined=result.rows_quarantined,
            rows_repaired=result.rows_repaired,
        ))
        pseudo = Pseudonyms(ws, la_maps[k], la, result.source)
        tab, id_map = staged_stays(ws, result, pseudo, seq0 + k)
        if tab is not None:
            stays.append(tab)
            ids.append(id_map)
            named.append(result.source)
        sc, allc = source_children(ws, result, pseudo, seq0 + k, id_map)
        kids.append(sc)
        idents.append(identifiers_frame(result, pseudo, allc))
        p, pi = proceedings_frames(result, pseudo)
        procs.append(p)
        idents.append(pi)
        quar.append(quarantine_frame(result))
        reps.append(repairs_frame(result))
    new_kids = [k.column("child_id") for k in kids if k is not None and k.num_rows]
    if new_kids:
        mark_dirty(ws, pa.chunked_array(new_kids).combine_chunks())
    for name, frames in (("_source_children", kids), ("identifiers", idents), ("proceedings", procs),
                         ("quarantine", quar), ("_repairs", reps)):
        _write_frames(ws, name, frames)
    stats = write_stays(ws, stays, ids, named)
    found = conflicts(ws, names)
    rows = []
    for k, (result, report) in enumerate(zip(results, reports, strict=True)):
        written, dups, examples = stats.get(result.source, (0, 0, []))
        report.stays_written, report.duplicate_stays = written, dups
        problems = quarantine_problems(result) + repair_problems(result)
        if dups:
            problems.append(problem("stay already loaded from another source", dups, examples))
        problems += found.get(result.source, [])
        problems += [problem(w, 1, []) for w in result.warnings]
        gap = unaccounted_problem(report)
        if gap:
            problems.append(gap)
        report.problems = problems
        row = {k2: v for k2, v in report.to_dict().items() if k2 in _SOURCES_SCHEMA.names}
        row.update(source=result.source, load_seq=seq0 + k, loaded_at=dt.datetime.now().replace(microsecond=0),
                   report=json.dumps(report.to_dict(), default=str))
        rows.append({c: row[c] for c in _SOURCES_SCHEMA.names})
    ws.write("_sources", pd.DataFrame(rows))
    return reports


def finalise(ws: WorkspaceLike) -> None:
    """Rebuild ``children`` from every source's view (need_id is assigned while stays are written)."""
    ensure_internal(ws)
    rebuild_children(ws)
