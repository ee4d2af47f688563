"""Load stage 1, read: the files found, their formats checked, each format's reader run once on its files.

An event log read with a workspace whose engine can scan files itself (DuckDB) stays in that engine
(:mod:`cscflow.sources.events_stage`). When several formats are given and the work is large enough to pay for
starting a process (a county's Annex A workbook, CIN censuses and SSDA903 returns), the formats' readers run at
the same time in other processes (:mod:`.workers`); the results are the same, in the same order.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cscflow.errors import SourceError
from cscflow.sources.base import ReadResult
from cscflow.sources.detect import READERS, check_format, normalise_format
from cscflow.sources.load import workers

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

#: progress(step, done, total): step is a short message such as "reading episodes.csv".
Progress = Callable[[str, int, int], None]
_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".xml", ".parquet", ".pq"}


def expand(paths: Iterable[str | Path], found: set[Path] | None = None) -> list[Path]:
    """The files of ``paths``, folders searched (their files are added to ``found`` when given)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES
                           and not f.name.startswith((".", "~$")) and "truth" not in f.relative_to(p).parts)
            if not files:
                raise SourceError(f"{p} holds no files cscflow can read", hint="give .xlsx, .csv, .xml or .parquet")
            out.extend(files)
            if found is not None:
                found.update(files)
        else:
            out.append(p)
    return out


def reader(fmt: str) -> Callable[..., list[ReadResult]]:
    """The ``read`` function of format ``fmt``'s reader module."""
    module = importlib.import_module(f"cscflow.sources.{READERS[fmt]}")
    read: Callable[..., list[ReadResult]] = module.read
    return read


def read_all(ws: WorkspaceLike, paths: Iterable[str | Path], format: str = "auto",
             mapping: str | Path | None = None, progress: Progress | None = None,
             open_stages: bool = False, cores: int | None = None,
             skipped: list[tuple[str, SourceError]] | None = None) -> tuple[list[ReadResult], int]:
    """Every file of ``paths`` read (folders searched): (the reader results in order, the number of files).

    A file found in a folder whose format cannot be told (a workbook of something else beside the returns) is
    left out and added to ``skipped`` as (name, why) when that list is given; a file named on its own, or any
    file when ``skipped`` is None, raises the error.
    ``cores``: processes that may read formats at once (None: the machine's cores; 1: all in this process);
    another process is started only when its share of the files is large enough to pay for its start."""
    found: set[Path] = set()
    files = expand(paths, found)
    if not files:
        raise SourceError("no files given", hint="give one or more files or folders to load")
    fmt0 = normalise_format(format)
    groups: dict[str, list[Path]] = {}
    left_out: set[Path] = set()
    for f in files:
        if progress:
            progress(f"checking {f.name}", 0, len(files))
        try:
            fmt = check_format(f, fmt0)
        except SourceError as exc:
            if skipped is None or f not in found or fmt0 != "auto":
                raise
            skipped.append((f.name, exc))
            left_out.add(f)
            continue
        groups.setdefault(fmt, []).append(f)
    if not groups:
        first = skipped[0][1] if skipped else SourceError("no files given")
        raise SourceError(f"no file cscflow can read was found ({len(skipped or [])} of unknown format): "
                          f"{first.args[0]}", hint=first.hint or "give --format annex-a, cin, 903, legal or events")
    files = [f for f in files if f not in left_out]
    names = [f.name for f in files]
    total = len(files)
    jobs: list[tuple[str, list[Path], dict[str, Any]]] = []
    for fmt, group in groups.items():
        options: dict[str, Any] = {}
        if fmt == "events" and mapping is not None:
            options["mapping"] = mapping
        if fmt == "events" and open_stages:
            options["open_stages"] = True
        if fmt == "events" and ws.sql_connection() is not None:
            options["ws"] = ws  # read by the workspace's engine: the stays never leave it
        jobs.append((fmt, group, options))
    if progress:
        progress(f"reading {total} file(s) of {len(jobs)} format(s)", 0, total)
    got_all = workers.run(jobs, cores)
    results: list[ReadResult] = []
    for (_fmt, group, _options), got in zip(jobs, got_all, strict=True):
        if len(got) == len(group):  # same file name in several folders (903 years): name them by folder
            for res, path in zip(got, group, strict=True):
                if res.source == path.name and names.count(path.name) > 1:
                    res.source = f"{path.parent.name}/{path.name}"
        results.extend(got)
    return results, total
