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
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

OUT = Path(__file__).parent / "out" / "spark_national"
SAMPLE_LAS = "886,330,202,873,929"  # Kent (largest), Birmingham, Camden, Cambridgeshire, Northumberland
MAP = "england"
AT = "2016-06-13"  # before-after's date (the middle of the reported period)
DATABASE = "bench_spark_national"


def load_average() -> float:
    return os.getloadavg()[0]


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, its waited children and every live descendant (the JVM)."""
    return sum(cpu_split())


def cpu_split() -> tuple[float, float]:
    """(CPU seconds of this Python process and its waited children, of its live descendants: Spark's JVM)."""
    t = os.times()
    own = t.user + t.system + t.children_user + t.children_system
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            text = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        rest = text[text.rfind(")") + 2:].split()
        parent[int(d)] = int(rest[1])
        ticks[int(d)] = sum(int(v) for v in rest[11:15])  # utime, stime, cutime, cstime
    me = os.getpid()
    for pid in parent:
        p, seen = parent.get(pid, 0), 0
        while p and p != me and seen < 64:
            p, seen = parent.get(p, 0), seen + 1
        if p == me and pid != me:
            total += ticks[pid] / tick
    return own, total


class Timer:
    """Times steps: wall, CPU, the load average at the end; prints each as it goes."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.steps: dict[str, dict[str, Any]] = {}

    def run(self, step: str, fn: Any) -> Any:
        w0, (p0, j0) = time.perf_counter(), cpu_split()
        out = fn()
        wall, (p1, j1) = time.perf_counter() - w0, cpu_split()
        py, jvm = p1 - p0, j1 - j0
        rows = len(out) if isinstance(out, pd.DataFrame) else out if isinstance(out, int) else None
        self.steps[step] = {"wall": wall, "cpu": py + jvm, "cpu_python": py, "cpu_jvm": jvm, "load": load_average(),
                            "rows": rows}
        print(f"  {self.engine:7} {step:13} {wall:8.2f} s wall {py + jvm:8.2f} s CPU (Python {py:7.2f}, JVM "
              f"{jvm:7.2f})  rows {rows if rows is not None else '':>10}  load average {load_average():.1f}",
              flush=True)
        return out


def spark_session(memory: str, partitions: int) -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # never bind Spark to a network interface
    session = (
        SparkSession.builder.master("local[2]")
        .appName("cscflow-bench-spark-national")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(OUT / "spark-warehouse"))
        .config("spark.local.dir", str(OUT / "spark-local"))
        .config("spark.driver.memory", memory)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def run_engine(ws: Any, timer: Timer, files: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Load every LA's events, build the timeline, compute every flow table: each a timed step."""
    from cscflow.journeys import flow, timelines
    from cscflow.sources import load

    def load_all() -> int:
        return sum(r.rows_loaded for la, path in files.items() for r in load(ws, [path], la=la))

    timer.run("load", load_all)
    timer.run("timeline", lambda: int(ws.execute(timelines(ws, MAP).count())))
    tables = {}
    for name, fn in flow.TABLES.items():
        kw = {"at": AT} if name == "before-after" else {}
        tables[name] = timer.run(name, lambda fn=fn, kw=kw: fn(ws, MAP, **kw))
    return tables


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order, columns of comparable types (numbers as float, times as datetime64)."""
    out = df.reset_index(drop=True).copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = pd.to_datetime(s).dt.tz_localize(None) if getattr(s.dt, "tz", None) else pd.to_datetime(s)
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[c] = s.astype("float64")
    keys = [c for c in out.columns if not pd.api.types.is_float_dtype(out[c])] or list(out.columns)
    return out.sort_values(keys, key=lambda s: s.astype(str)).reset_index(drop=True)


def compare(name: str, got: pd.DataFrame, want: pd.DataFrame) -> str:
    """'' when the tables are equal (rows in any order, floats to 1e-9 relative), else what differs."""
    if list(got.columns) != list(want.columns):
        return f"columns {list(got.columns)} against {list(want.columns)}"
    if len(got) != len(want):
        return f"{len(got):,} rows against {len(want):,}"
    try:
        pd.testing.assert_frame_equal(normalise(got), normalise(want), check_dtype=False, rtol=1e-9, atol=1e-9,
                                      obj=name)
    except AssertionError as exc:
        return str(exc).strip().replace("\n", " | ")[:600]
    return ""


def main() -> None:
    from cscflow import Workspace
    from cscflow.journeys import flow
    from cscflow.synth.national import la_populations, synthesise_national

    las = [c.strip() for c in os.environ.get("CSCFLOW_BENCH_LAS", SAMPLE_LAS).split(",") if c.strip()]
    memory = os.environ.get("CSCFLOW_BENCH_SPARK_MEMORY", "6g")
    partitions = int(os.environ.get("CSCFLOW_BENCH_SPARK_PARTITIONS", "4"))
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    pops = {la: (name, pop) for la, name, pop in la_populations()}
    share = sum(pops[la][1] for la in las) / sum(p for _, p in pops.values())
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; Spark local[2], driver memory "
          f"{memory}, {partitions} shuffle partitions; load average at start {load_average():.1f}")
    print(f"sample: {', '.join(f'{pops[la][0]} ({la})' for la in las)}: {share:.2%} of England's children 0-17")

    synth = Timer("synth")
    data = OUT / "national"
    paths = synth.run("synth", lambda: synthesise_national(seed=1, out_dir=data, las=las))
    # Each LA's file is events/la=<code>/part-0.parquet. A source is named by its file name, and loading a name
    # again replaces what it loaded: loaded one LA at a time (each with its la=), every LA's part-0.parquet would
    # replace the LA before (and one load of events/ is refused: the files do not state their LA). So each LA's
    # file is given to the loader under a name of its own (a symbolic link, no copy).
    named = OUT / "events_by_la"
    named.mkdir()
    files = {}
    for la in las:
        files[la] = named / f"events_{la}.parquet"
        files[la].symlink_to((data / "events" / f"la={la}" / "part-0.parquet").resolve())
    import pyarrow.parquet as pq

    stays = sum(pq.ParquetFile(p).metadata.num_rows for p in files.values())
    parquet_bytes = sum(p.stat().st_size for p in files.values())
    print(f"  {len(paths)} files; events Parquet: {stays:,} stays, {parquet_bytes / 1e6:.1f} MB "
          f"({parquet_bytes / stays:.1f} bytes per stay)")

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
    session = spark_timer.run("session", lambda: spark_session(memory, partitions))
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
    result = {"las": las, "population_share": share, "stays": stays, "parquet_bytes": parquet_bytes,
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
