"""Loading benchmarks: the ``county`` preset (Annex A + CIN + 903) and a 10M-row event Parquet.

1. ``cscflow synth --preset county`` files (Annex A, CIN census XML, SSDA903 CSV) loaded into a
   fresh workspace with :func:`cscflow.sources.load` (target: under 30 s). Baseline: the same
   files' bytes read from disk and parsed by the bare libraries (openpyxl read-only rows,
   lxml iterparse, csv) with no work, in the same run.
2. A 10-million-row event log (Parquet, child_id/stage/start/end/outcome/team) loaded with
   :func:`cscflow.sources.load` (target: under 30 s). Baseline: a bare DuckDB
   ``CREATE TABLE AS SELECT * FROM read_parquet(...)`` of the same file into a fresh database.

Each workload runs ``CSCFLOW_BENCH_REPEATS`` times (default 3), ours and the baseline alternating;
medians are printed with the load average (the 2 cores are shared). ``CSCFLOW_BENCH_SKIP=county`` or
``=events`` skips a part. Each of our runs loads into a fresh workspace and then loads the same files
again (the reload figure: everything from those files replaced, nothing duplicated).
Inputs are cached under ``bench/out/load/``.
"""

from __future__ import annotations

import csv
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

OUT = Path(__file__).parent / "out" / "load"
N_EVENTS = 10_000_000


def _county_files() -> list[Path]:
    folder = OUT / "county"
    if not (folder / "annex_a.xlsx").exists():
        from cscflow.synth.run import synthesise

        shutil.rmtree(folder, ignore_errors=True)
        synthesise("county", seed=1, out_dir=folder, formats=["annex-a", "cin", "903"])
    return [folder / "annex_a.xlsx", *sorted(folder.glob("cin_census_*.xml")), folder / "ssda903"]


def _bare_read(files: list[Path]) -> int:
    import openpyxl
    from lxml import etree

    n = 0
    for f in files:
        paths = sorted(f.rglob("*.csv")) if f.is_dir() else [f]
        for p in paths:
            if p.suffix == ".xlsx":
                wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
                for ws in wb.worksheets:
                    n += sum(1 for _ in ws.iter_rows(values_only=True))
                wb.close()
            elif p.suffix == ".xml":
                for _, el in etree.iterparse(str(p), tag="Child"):
                    n += 1
                    el.clear()
            else:
                with open(p, newline="", encoding="utf-8-sig") as fh:
                    n += sum(1 for _ in csv.reader(fh))
    return n


def _events_file() -> Path:
    path = OUT / "events_10m.parquet"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        stages = "['contact','referral','assessment','strategy_discussion','s47','icpc','cin_plan','cp_plan']"
        con.execute(f"""
            COPY (SELECT 'C' || lpad(CAST((i * 7919) % 600000 AS VARCHAR), 7, '0') AS child_id,
                         {stages}[1 + ((i // 600000 + i) % 8)] AS stage,
                         TIMESTAMP '2015-01-01' + to_seconds(CAST((i * 104729) % 283996800 AS BIGINT)) AS start,
                         TIMESTAMP '2015-01-01' + to_seconds(CAST((i * 104729) % 283996800 AS BIGINT) + 86400 * (i % 40))
                             AS "end",
                         CASE WHEN i % 3 = 0 THEN 'nfa' END AS outcome,
                         'Team ' || (i % 12) AS team
                  FROM range({N_EVENTS}) t(i))
            TO '{path}' (FORMAT parquet)""")
        con.close()
    return path


def _timed(fn):  # noqa: ANN001, ANN202
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _load_ours(files: list[Path]) -> tuple[float, float, list, int]:
    """(first load s, reload of the same files s, reports, stays) in a fresh workspace."""
    from cscflow import Workspace
    from cscflow.sources import load

    with tempfile.TemporaryDirectory() as d:
        ws = Workspace(Path(d) / "ws", la="999")
        t_first, reports = _timed(lambda: load(ws, files))
        t_again, _ = _timed(lambda: load(ws, files))
        stays = ws.count("episodes")
        ws.close()
    return t_first, t_again, reports, stays


def _ctas(path: Path) -> float:
    with tempfile.TemporaryDirectory() as d:
        con = duckdb.connect(str(Path(d) / "base.duckdb"))
        t, _ = _timed(lambda: con.execute(f"CREATE TABLE e AS SELECT * FROM read_parquet('{path}')"))
        con.close()
    return t


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    repeats = int(os.environ.get("CSCFLOW_BENCH_REPEATS", "3"))
    skip = set(os.environ.get("CSCFLOW_BENCH_SKIP", "").split(","))
    print(f"load average at start {os.getloadavg()[0]:.1f} (2 cores shared); medians of {repeats} runs, "
          "ours and the baseline alternating")
    if "county" not in skip:
        files = _county_files()
        size = sum(p.stat().st_size for f in files for p in ([f] if f.is_file() else f.rglob("*.csv")))
        base, first, again = [], [], []
        for _ in range(repeats):
            t, n_base = _timed(lambda: _bare_read(files))
            base.append(t)
            t1, t2, reports, stays = _load_ours(files)
            first.append(t1)
            again.append(t2)
        rows = sum(r.rows_read for r in reports)
        print(f"county preset ({len(reports)} files, {size / 1e6:.1f} MB, {rows:,} rows -> {stays:,} stays)")
        print(f"  cscflow load        {_median(first):6.1f} s   (target < 30 s; runs {_runs(first)})")
        print(f"  cscflow reload      {_median(again):6.1f} s   (same files again: replaces, no duplicates)")
        print(f"  bare parse baseline {_median(base):6.1f} s   ({n_base:,} rows/elements, openpyxl/lxml/csv, no work)")
        print(f"  ratio ours/baseline {_median(first) / _median(base):6.2f}")
        print(f"  load average now    {os.getloadavg()[0]:6.1f}")
    if "events" not in skip:
        path = _events_file()
        base, first, again = [], [], []
        for _ in range(repeats):
            base.append(_ctas(path))
            t1, t2, reports, stays = _load_ours([path])
            first.append(t1)
            again.append(t2)
        print(f"event parquet ({reports[0].rows_read:,} rows, {path.stat().st_size / 1e6:.0f} MB; loaded {stays:,} "
              f"stays, {reports[0].rows_quarantined:,} quarantined)")
        print(f"  cscflow load        {_median(first):6.1f} s   (target < 30 s; runs {_runs(first)})")
        print(f"  cscflow reload      {_median(again):6.1f} s")
        print(f"  duckdb CTAS baseline{_median(base):6.1f} s   (runs {_runs(base)})")
        print(f"  ratio ours/baseline {_median(first) / _median(base):6.1f}")
        print(f"  load average now    {os.getloadavg()[0]:6.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"peak memory of this process {peak:.1f} GB")


def _runs(xs: list[float]) -> str:
    return " / ".join(f"{x:.1f}" for x in xs)


if __name__ == "__main__":
    main()
