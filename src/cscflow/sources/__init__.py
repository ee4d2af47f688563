"""Read what LAs hold into one workspace, with a data-quality report and nothing lost.

>>> import tempfile, pathlib
>>> from cscflow import Workspace
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "log.csv").write_text("child_id,stage,start\\nC1,referral,2020-01-02\\nC1,assessment,2020-01-03\\n")
>>> ws = Workspace(d / "ws", la="886")
>>> [(r.file, r.rows_read, r.rows_loaded) for r in load(ws, [d / "log.csv"])]
[('log.csv', 2, 2)]
>>> quality_report(ws)["sources"][0]["rows_quarantined"]
0
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cscflow.errors import SourceError
from cscflow.sources.base import ReadResult
from cscflow.sources.detect import READERS, check_format, detect_format, normalise_format
from cscflow.sources.events_stage import EngineStays
from cscflow.sources.loader import SourceReport, finalise, ingest_many

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

__all__ = ["ReadResult", "SourceReport", "detect_format", "load", "quality_report", "read_file"]

#: progress(step, done, total): step is a short message such as "reading episodes.csv".
Progress = Callable[[str, int, int], None]
_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".xml", ".parquet", ".pq"}


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES
                           and not f.name.startswith((".", "~$")) and "truth" not in f.relative_to(p).parts)
            if not files:
                raise SourceError(f"{p} holds no files cscflow can read", hint="give .xlsx, .csv, .xml or .parquet")
            out.extend(files)
        else:
            out.append(p)
    return out


def _reader(fmt: str) -> Callable[..., list[ReadResult]]:
    module = importlib.import_module(f"cscflow.sources.{READERS[fmt]}")
    read: Callable[..., list[ReadResult]] = module.read
    return read


def read_file(path: str | Path, format: str = "auto", **options: Any) -> ReadResult:
    """Read one file (without a workspace): its rows, quarantine and repairs.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("child_id,stage,start\\nC1,referral,2020-01-02\\n")
    >>> read_file(p).episodes["stage"].to_pylist()  # event logs give an Arrow table
    ['referral']
    """
    path = Path(path)
    fmt = check_format(path, format)
    results = _reader(fmt)([path], **options)
    return results[0]


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

    Folders are searched for readable files (a ``truth/`` folder is skipped). Files of one format
    are read together (so SSDA903 tables of several years are de-duplicated across years).
    Loading a file again replaces what it loaded before. A file that cannot be read at all
    raises :class:`~cscflow.errors.SourceError`; files loaded before it stay loaded.
    ``open_stages`` keeps event-log stage values outside the CSC vocabulary (any process log).
    ``la`` is the 3-digit LA code of files that do not state their LA (the CIN census does): a
    single-LA workspace learns its LA once and refuses files of another; a multi-LA workspace
    hashes each child with its own LA (:mod:`cscflow.workspace.identity`).
    Returns one :class:`SourceReport` per source file.
    """
    files = _expand(paths)
    if not files:
        raise SourceError("no files given", hint="give one or more files or folders to load")
    fmt0 = normalise_format(format)
    groups: dict[str, list[Path]] = {}
    for f in files:
        if progress:
            progress(f"checking {f.name}", 0, len(files))
        groups.setdefault(check_format(f, fmt0), []).append(f)
    names = [f.name for f in files]
    results: list[ReadResult] = []
    done, total = 0, len(files)
    for fmt, group in groups.items():
        options: dict[str, Any] = {}
        if fmt == "events" and mapping is not None:
            options["mapping"] = mapping
        if fmt == "events" and open_stages:
            options["open_stages"] = True
        if fmt == "events" and ws.sql_connection() is not None:
            options["ws"] = ws  # read by the workspace's engine: the stays never leave it
        if progress:
            progress(f"reading {len(group)} {fmt} file(s)", done, total)
        got = _reader(fmt)(group, **options)
        if len(got) == len(group):  # same file name in several folders (903 years): name them by folder
            for res, path in zip(got, group, strict=True):
                if res.source == path.name and names.count(path.name) > 1:
                    res.source = f"{path.parent.name}/{path.name}"
        results.extend(got)
        done += len(group)
    if progress:
        progress(f"writing {len(results)} source(s)", done, total)
    try:
        reports = ingest_many(ws, results, la=la)
    finally:
        for res in results:
            if isinstance(res.episodes, EngineStays):
                ws.drop_temporary(res.episodes.tag)
    if progress:
        progress("linking children and episodes of need", done, total)
    finalise(ws)
    ws.touch()  # the loaders also write with SQL of their own
    if progress:
        progress("done", total, total)
    return reports


def quality_report(ws: WorkspaceLike) -> dict[str, Any]:
    """The data-quality report of a workspace (the JSON of ``cscflow quality --json``).

    ``sources``: one item per loaded file with file, format, rows_read, rows_loaded,
    rows_quarantined, rows_repaired and problems (problem, count, examples);
    ``sequences``: children with impossible sequences across all sources.
    """
    from cscflow.sources.quality import report

    return report(ws)
