"""The national preset on Spark local[2] against DuckDB, in one run (issue 12).

Steps, each timed (wall and CPU seconds, the CPU of this process and of every process it started, so the
Spark JVM's too), each printed with the load average at the time (the 2 cores are shared):

1. ``synth``: the ``national`` preset (what ``cscflow synth --preset national`` writes, LA by LA, to
   partitioned Parquet) restricted to a sample of LAs through the Python API
   (:func:`cscflow.synth.national.synthesise_national` with ``las=``; the command has no LA option);
2. ``load``: each LA's ``events/la=<code>/part-0.parquet`` loaded with :func:`cscflow.sources.load` (``la=`` the
   LA's code; under a file name of its own, see ``main``) into a multi-LA workspace: a DuckDB workspace folder, and
   a Spark workspace
   (:meth:`cscflow.Workspace.from_spark`, ``multi_la=True``, the same key, so the same pseudonyms);
3. ``timeline``: the England map's timeline (:func:`cscflow.journeys.timelines`), which every flow table reads;
4. every flow table (:data:`cscflow.journeys.flow.TABLES`, the list of :mod:`cscflow.model.flow_tables`).

Then every table of Spark is compared with DuckDB's (rows in any order, floats to 1e-9 relative) and the
comparison printed; a difference fails the run. Figures are written to ``bench/out/spark_national/result.json``
for docs/benchmarks.md (``## spark-national``).

``.venv/bin/python -m bench spark_national``. ``CSCFLOW_BENCH_LAS`` (comma-separated DfE codes; default the five
LAs of ``## synth``: Kent, Birmingham, Camden, Cambridgeshire, Northumberland, 7.3% of England's children),
``CSCFLOW_BENCH_SPARK_MEMORY`` (driver memory, default 6g), ``CSCFLOW_BENCH_SPARK_PARTITIONS`` (shuffle
partitions, default 4).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from bench.spark_common import (
    Settings,
    Timer,
    compare,
    load_average,
    load_events,
    spark_session,
    synthesise_sample,
)

OUT = Path(__file__).parent / "out" / "spark_national"
MAP = "england"
AT = "2016-06-13"  # before-after's date (the middle of the reported period)
DATABASE = "bench_spark_national"


def run_engine(ws: Any, timer: Timer, files: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Load every LA's events, build the timeline, compute every flow table: each a timed step."""
    from cscflow.journeys import flow, timelines

    timer.run("load", lambda: load_events(ws, files))
    timer.run("timeline", lambda: int(ws.execute(timelines(ws, MAP).count())))
    tables = {}
    for name, fn in flow.TABLES.items():
        kw = {"at": AT} if name == "before-after" else {}
        tables[name] = timer.run(name, lambda fn=fn, kw=kw: fn(ws, MAP, **kw))
    return tables


def main() -> None:
    from cscflow import Workspace
    from cscflow.journeys import flow

    cfg = Settings.from_env()
    las, memory, partitions = cfg.las, cfg.memory, cfg.partitions
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    cfg.describe()
    sample = synthesise_sample(OUT, las)
    synth, files, stays, parquet_bytes = sample.timer, sample.files, sample.stays, sample.parquet_bytes

    duck_timer = Timer("duckdb")
    duck = Workspace(OUT / "duck", multi_la=True)
    want = run_engine(duck, duck_timer, files)
    episodes = duck.count("episodes")
    children = duck.count("children")
    counts = {r[0]: r[1] for r in duck.sql(
        "SELECT stage, count(*) FROM episodes WHERE start >= TIMESTAMP '2014-04-01' AND start < TIMESTAMP "
        "'2018-04-01' GROUP BY stage")}
    span = duck.sql("SELECT min(start), max(start) FROM episodes")[0]
    duck.close()
    duck_bytes = (OUT / "duck" / "cscflow.duckdb").stat().st_size
    print(f"  DuckDB workspace ({duck_bytes / 1e6:.0f} MB): {episodes:,} stays of the files' {stays:,}, {children:,} children; "
          f"stays {span[0]} .. {span[1]}")
    if episodes != stays:
        raise SystemExit(f"the DuckDB workspace holds {episodes:,} stays, the files {stays:,}")

    spark_timer = Timer("spark")
    session = spark_timer.run("session", lambda: spark_session(OUT, memory, partitions))
    try:
        sw = Workspace.from_spark(session, database=DATABASE, key_file=OUT / "duck" / "key", multi_la=True)
        got = run_engine(sw, spark_timer, files)
        spark_episodes = sw.count("episodes")
        stored = sum(f.stat().st_size for f in (OUT / "spark-warehouse").rglob("*") if f.is_file())
        print(f"  Spark workspace: {spark_episodes:,} stays; its tables in the warehouse (Parquet): "
              f"{stored / 1e6:.1f} MB")
    finally:
        session.sql(f"DROP DATABASE IF EXISTS `{DATABASE}` CASCADE")
        session.stop()

    print(f"comparison, Spark against DuckDB ({spark_episodes:,} against {episodes:,} stays):")
    differences = {}
    for name in flow.TABLES:
        diff = compare(name, got[name], want[name])
        differences[name] = diff
        print(f"  {name:13} {len(want[name]):>8,} rows  {'equal' if not diff else 'DIFFERENT: ' + diff}")

    print("per step, wall / CPU seconds (load average at the end of the step):")
    print(f"  {'step':13} {'DuckDB':>22} {'Spark local[2]':>22} {'Spark/DuckDB wall':>18}")
    for step in ["load", "timeline", *flow.TABLES]:
        d, s = duck_timer.steps[step], spark_timer.steps[step]
        print(f"  {step:13} {d['wall']:7.2f} / {d['cpu']:6.2f} ({d['load']:4.1f}) "
              f"{s['wall']:7.2f} / {s['cpu']:6.2f} ({s['load']:4.1f}) {s['wall'] / max(d['wall'], 1e-9):12.1f}x")
    total = {e: sum(v["wall"] for k, v in t.steps.items() if k not in ("session",))
             for e, t in (("duckdb", duck_timer), ("spark", spark_timer))}
    print(f"  load + timeline + every flow table: DuckDB {total['duckdb']:.1f} s, Spark {total['spark']:.1f} s "
          f"(+ Spark session start {spark_timer.steps['session']['wall']:.1f} s); load average now "
          f"{load_average():.1f}")
    result = {"las": las, "population_share": cfg.share, "stays": stays, "parquet_bytes": parquet_bytes,
              "episodes": episodes, "children": children, "warehouse_bytes": stored, "duckdb_bytes": duck_bytes, "stage_counts_2014_2018": counts,
              "synth": synth.steps, "duckdb": duck_timer.steps, "spark": spark_timer.steps,
              "differences": differences, "memory": memory, "partitions": partitions}
    (OUT / "result.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"written {OUT / 'result.json'}")
    bad = [n for n, d in differences.items() if d]
    if bad:
        raise SystemExit(f"Spark and DuckDB differ in: {', '.join(bad)}")


if __name__ == "__main__":
    main()
