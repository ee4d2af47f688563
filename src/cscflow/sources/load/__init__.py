"""The load pipeline: files in, a workspace's canonical tables and a report per file out.

:func:`load` runs each stage once, in order, each stage a module of this package:

1. **read** (:mod:`.read`): the files found, their formats checked, each format's reader run once;
2. **settle identity** (:mod:`.identity`): the LA the children belong to (a file of another LA is refused
   before anything is written), the rank of this load after the earlier ones, and what it replaces
   (a file loaded again: its earlier rows deleted, so that reloading never duplicates);
3. **pseudonymise** (:mod:`.pseudonymise`): LA child ids hashed with the workspace key, once per distinct id;
4. **stage stays** (:mod:`.staging`): each source's stays typed, pseudonymised and numbered;
5. **write stays** (:mod:`.stays`): one ``INSERT ... SELECT`` into ``episodes``, duplicates of stays loaded
   from another source dropped, ``need_id`` attached, earlier stays re-attached;
6. **children** (:mod:`.children`): each source's view of a child kept in ``_source_children`` (conflicting
   sex or date of birth across sources reported, never silently overwritten), ``identifiers`` and
   ``proceedings`` written, ``children`` rebuilt (first non-missing value per field, in load order);
   then (:mod:`.dated`) the plan reviews (``reviews``) and missing episodes (``missing``), pseudonymised alike;
7. **report** (:mod:`.report`): ``quarantine``, ``_repairs`` and one ``_sources`` row per file.

:func:`ingest_many` is stages 2-7 on results already read. Internal tables (underscore names, never served)
are described in :mod:`.internal`.

>>> import tempfile, pandas as pd
>>> from cscflow.workspace import Workspace
>>> ws = Workspace(tempfile.mkdtemp(), la="886")
>>> r = ReadResult(source="a.csv", format="events", rows_read=1, rows_loaded=1)
>>> r.episodes = pd.DataFrame({"source_child_id": ["C1"], "stage": ["referral"],
...                            "start": ["2020-01-02"], "source_row": [1]})
>>> ingest(ws, r).stays_written, ws.count("episodes"), ws.count("children")
(1, 1, 1)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cscflow.errors import SourceError
from cscflow.sources import events_stage
from cscflow.sources.base import ReadResult
from cscflow.sources.load import children, dated, identity, pseudonymise, read, report, staging, stays
from cscflow.sources.load.children import rebuild_children
from cscflow.sources.load.internal import INTERNAL, ensure_internal
from cscflow.sources.load.read import Progress
from cscflow.sources.load.report import EXAMPLES, SourceReport
from cscflow.sources.load.staging import episodes_arrow
from cscflow.sources.load.stays import assign_needs

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

__all__ = ["EXAMPLES", "INTERNAL", "Progress", "SourceReport", "assign_needs", "ensure_internal",
           "episodes_arrow", "finalise", "ingest", "ingest_many", "load", "rebuild_children"]


def load(
    ws: WorkspaceLike,
    paths: Iterable[str | Path],
    format: str = "auto",
    mapping: str | Path | None = None,
    progress: Progress | None = None,
    open_stages: bool = False,
    la: str | None = None,
) -> list[SourceReport]:
    """Load files into workspace ``ws``: detect, read, pseudonymise, merge, de-duplicate, report.

    Folders are searched for readable files (a ``truth/`` folder is skipped); a file found there whose format
    cannot be told is not loaded and gets a report of format "not loaded" saying why. Files of one format
    are read together (so SSDA903 tables of several years are de-duplicated across years).
    Loading a file again replaces what it loaded before. A file that cannot be read at all
    raises :class:`~cscflow.errors.SourceError`; files loaded before it stay loaded.
    ``open_stages`` keeps event-log stage values outside the CSC vocabulary (any process log).
    ``la`` is the 3-digit LA code of files that do not state their LA (the CIN census does): a
    single-LA workspace learns its LA once and refuses files of another; a multi-LA workspace
    hashes each child with its own LA (:mod:`cscflow.workspace.identity`).
    Returns one :class:`SourceReport` per source file.
    """
    skipped: list[tuple[str, SourceError]] = []
    results, total = read.read_all(ws, paths, format, mapping, progress, open_stages, skipped=skipped)
    if progress:
        progress(f"writing {len(results)} source(s)", total, total)
    try:
        reports = ingest_many(ws, results, la=la, progress=progress, total=total)
    finally:
        for res in results:
            if isinstance(res.episodes, events_stage.EngineStays):
                ws.drop_temporary(res.episodes.tag)
    if ws.sql_connection() is not None:  # DuckDB: stored now, so read-only processes (`cscflow flow`) find it
        ws.calendar()
    ws.touch()  # the loaders also write with SQL of their own
    if progress:
        progress("done", total, total)
    for name, why in skipped:  # found in a folder, format unknown: said, not loaded
        reports.append(SourceReport(name, "not loaded", problems=[report.problem(
            f"{why.args[0]}".split(": ", 1)[-1] + f" ({why.hint or 'give --format'}, naming the file on its own)",
            1, [])]))
    return reports


def ingest_many(ws: WorkspaceLike, results: list[ReadResult], la: str | None = None, *,
                progress: Progress | None = None, total: int = 0) -> list[SourceReport]:
    """Write several reader results at once (stages 2-7: a handful of engine queries however many files).

    Sources are ranked by :data:`AUTHORITY`, then in the order given (after anything loaded before): when two
    sources report the same stay, the higher-ranked keeps it, with the end another copy knows when its own is
    not known. Reports come back in the order given. ``la`` is the LA of files that do not state one
    (``--la``); the LA of the workspace's pseudonyms is settled first
    (:func:`cscflow.workspace.identity.settle`), so a file of another LA is refused before anything
    is written.
    """
    ensure_internal(ws)
    if not results:
        return []
    _refuse_same_names(results)
    order = sorted(range(len(results)), key=lambda i: (AUTHORITY.get(results[i].format, len(AUTHORITY)), i))
    if order != list(range(len(results))):  # the statutory returns first: their copy of a stay is kept
        return [r for _, r in sorted(zip(order, ingest_many(ws, [results[i] for i in order], la, progress=progress, total=total), strict=True),
                                     key=lambda pair: pair[0])]
    plan = identity.settle(ws, results, la)
    pseudos = pseudonymise.pseudonymise(ws, results, plan.la_maps, la)
    staged = staging.stage(ws, results, pseudos, plan.seq0)
    stats = stays.write(ws, staged)
    if progress:
        progress("linking children and episodes of need", total, total)
    found = children.write_children(ws, results, pseudos, staged, plan)
    dated.write_dated(ws, results, pseudos)
    return report.write_report(ws, results, plan.seq0, stats, found)


#: Which source's copy of a stay a load keeps when several report it (child, stage, start day), and whose
#: characteristics of a child come first: the statutory return made for the stage (SSDA903 for care, the CIN
#: census for children in need; they share no stage), then Annex A (an inspection's list), then an event log
#: or any other; within a format, the order given. A kept copy without a known end takes it from another copy
#: (:mod:`.stays`).
AUTHORITY = {"903": 0, "cin": 1, "annex-a": 2, "events": 3}


def _refuse_same_names(results: list[ReadResult]) -> None:
    """Two files of one load named alike would be one source (loading a name again replaces it): refused."""
    seen: dict[str, int] = {}
    for r in results:
        seen[r.source] = seen.get(r.source, 0) + 1
    same = sorted(name for name, n in seen.items() if n > 1)
    if same:
        raise SourceError(f"{len(same)} file name(s) given more than once in one load: {', '.join(same[:5])}",
                          hint="each file is a source known by its name (loading a name again replaces it): "
                               "rename the files apart, or load them into separate workspaces")


def ingest(ws: WorkspaceLike, result: ReadResult) -> SourceReport:
    """Write one reader result into the workspace, replacing earlier loads of the same file."""
    return ingest_many(ws, [result])[0]


def finalise(ws: WorkspaceLike) -> None:
    """Rebuild ``children`` from every source's view (:func:`ingest_many` does it for the children it
    touches; this rebuilds whatever is marked)."""
    ensure_internal(ws)
    rebuild_children(ws)
