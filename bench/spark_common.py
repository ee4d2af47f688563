"""What the benchmarks of the national preset on Spark local share (``bench_spark_national``,
``bench_spark_national_extras``): the sample of LAs and its settings, the timer of steps (wall, CPU of Python and
of Spark's JVM, the load average), the Spark session, the synthesis of the sample, the comparison of tables.

Settings from the environment: ``CSCFLOW_BENCH_LAS`` (comma-separated DfE codes; default the five LAs of
``## synth``: Kent, Birmingham, Camden, Cambridgeshire, Northumberland, 7.3% of England's children),
``CSCFLOW_BENCH_SPARK_MEMORY`` (driver memory, default 6g), ``CSCFLOW_BENCH_SPARK_PARTITIONS`` (shuffle
partitions, default 4).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

SAMPLE_LAS = "886,330,202,873,929"  # Kent (largest), Birmingham, Camden, Cambridgeshire, Northumberland


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


@dataclass
class Settings:
    """The sample of LAs and the Spark settings of a run (from the environment)."""

    las: list[str]
    memory: str
    partitions: int
    names: dict[str, str] = field(default_factory=dict)
    share: float = 0.0

    @classmethod
    def from_env(cls) -> Settings:
        from cscflow.synth.national import la_populations

        las = [c.strip() for c in os.environ.get("CSCFLOW_BENCH_LAS", SAMPLE_LAS).split(",") if c.strip()]
        pops = {la: (name, pop) for la, name, pop in la_populations()}
        share = sum(pops[la][1] for la in las) / sum(p for _, p in pops.values())
        return cls(las, os.environ.get("CSCFLOW_BENCH_SPARK_MEMORY", "6g"),
                   int(os.environ.get("CSCFLOW_BENCH_SPARK_PARTITIONS", "4")),
                   {la: pops[la][0] for la in las}, share)

    def describe(self) -> None:
        print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; Spark local[2], driver memory "
              f"{self.memory}, {self.partitions} shuffle partitions; load average at start {load_average():.1f}")
        print(f"sample: {', '.join(f'{self.names[la]} ({la})' for la in self.las)}: {self.share:.2%} of England's "
              "children 0-17")


def spark_session(out: Path, memory: str, partitions: int, app: str = "cscflow-bench-spark-national") -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # never bind Spark to a network interface
    session = (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(out / "spark-warehouse"))
        .config("spark.local.dir", str(out / "spark-local"))
        .config("spark.driver.memory", memory)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


@dataclass
class Sample:
    """The national preset's files of the sample: each LA's events file (under a name of its own), its legal sheet
    and its truth."""

    timer: Timer
    data: Path
    files: dict[str, Path]
    stays: int
    parquet_bytes: int


def synthesise_sample(out: Path, las: list[str], formats: tuple[str, ...] = ("events",)) -> Sample:
    """The national preset for ``las`` in ``out / 'national'``, timed as ``synth``, its sizes printed."""
    import pyarrow.parquet as pq

    from cscflow.synth.national import synthesise_national

    synth = Timer("synth")
    data = out / "national"
    paths = synth.run("synth", lambda: synthesise_national(seed=1, out_dir=data, las=las, formats=formats))
    # Each LA's file is events/la=<code>/part-0.parquet; each is given to the loader under a name of its own (a
    # symbolic link, no copy), so a source is one LA's events whatever the loader makes of partition folders.
    named = out / "events_by_la"
    named.mkdir()
    files = {}
    for la in las:
        files[la] = named / f"events_{la}.parquet"
        files[la].symlink_to((data / "events" / f"la={la}" / "part-0.parquet").resolve())
    stays = sum(pq.ParquetFile(p).metadata.num_rows for p in files.values())
    parquet_bytes = sum(p.stat().st_size for p in files.values())
    print(f"  {len(paths)} files; events Parquet: {stays:,} stays, {parquet_bytes / 1e6:.1f} MB "
          f"({parquet_bytes / stays:.1f} bytes per stay)")
    return Sample(synth, data, files, stays, parquet_bytes)


def load_events(ws: Any, files: dict[str, Path]) -> int:
    """Load each LA's events file with its LA code; returns the stays loaded."""
    from cscflow.sources import load

    return sum(r.rows_loaded for la, path in files.items() for r in load(ws, [path], la=la))


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


def compare(name: str, got: pd.DataFrame, want: pd.DataFrame, rtol: float = 1e-9) -> str:
    """'' when the tables are equal (rows in any order, floats to ``rtol`` relative), else what differs."""
    if list(got.columns) != list(want.columns):
        return f"columns {list(got.columns)} against {list(want.columns)}"
    if len(got) != len(want):
        return f"{len(got):,} rows against {len(want):,}"
    try:
        pd.testing.assert_frame_equal(normalise(got), normalise(want), check_dtype=False, rtol=rtol, atol=rtol,
                                      obj=name)
    except AssertionError as exc:
        return str(exc).strip().replace("\n", " | ")[:600]
    return ""
