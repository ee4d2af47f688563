"""What users run, as they run it: the documented commands as whole processes, and the documented Python API,
each beside its baseline run the way its own users run it, alternating in the same run.

1. ``bpic``: BPI Challenge 2012 x10 (2,622,000 events, built from ../shared/data/pm4py-core-event-logs).
   - four processes: ``cscflow load WS log.csv --format events --open-stages`` then ``cscflow flow WS dfg``,
     ``durations`` and ``variants`` with ``--map auto`` (target: the four >= 3x faster than pm4py);
   - the Python API in one fresh process: ``cscflow.sources.load`` + ``journeys.flow.dfg`` + ``variants``
     (target: >= 10x pm4py, within 1.2x of the hand-written DuckDB SQL);
   - baselines: a pm4py script as one process (read the CSV, ``format_dataframe``, ``discover_dfg``,
     ``discover_performance_dfg``, ``get_variants``: what a pm4py user writes), and the hand-written DuckDB SQL
     (CSV into an in-memory table, the dfg with mean and median durations and the variants) in a fresh process.
     Each process reports its own in-process time too (without the interpreter's start and imports).
2. ``startup``: ``cscflow --help`` (target <= 0.3 s) beside ``python -c pass`` and ``python -c "import click"``.
3. ``county``: ``cscflow load`` of the county's returns (Annex A, CIN census, SSDA903 CSV; target <= 15 s)
   beside a bare parse of the same files (openpyxl, lxml, csv: no work) in a process; then every
   ``cscflow flow`` table on the stored workspace as a whole process (target <= 1 s each) beside the imports a
   flow command cannot avoid (pandas, ibis, duckdb) in a process.

Run: ``.venv/bin/python -m bench users``. Environment: ``CSCFLOW_BENCH_REPEAT`` (default 3),
``CSCFLOW_BENCH_SKIP`` (comma list of bpic, startup, county), ``CSCFLOW_BENCH_PM4PY_PYTHON`` (a Python with
pm4py installed, e.g. a separate virtual environment: pm4py is AGPL and never a cscflow dependency; default the
running interpreter), ``CSCFLOW_BENCH_COUNTY`` (a folder of county files already written by ``cscflow synth``).
Every figure is printed with the load average when it was taken (the machine's cores may be shared).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "out" / "users"
PY = sys.executable
CSCFLOW = str(Path(PY).parent / "cscflow")
REPEAT = int(os.environ.get("CSCFLOW_BENCH_REPEAT", 3))
FLOW_TABLES = ("stations", "conversion", "durations", "dfg", "variants", "caseload", "rereferrals",
               "nfa-by-prior", "s47-outcomes", "before-after")

PM4PY_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
import pandas as pd
import pm4py
t1 = time.perf_counter()
CASE, ACT, TS = "case:concept:name", "concept:name", "time:timestamp"
df = pd.read_csv(sys.argv[1])
df = pm4py.format_dataframe(df, case_id=CASE, activity_key=ACT, timestamp_key=TS)
t2 = time.perf_counter()
dfg, _, _ = pm4py.discover_dfg(df)
perf, _, _ = pm4py.discover_performance_dfg(df)
variants = pm4py.get_variants(df)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "tables": t3 - t2, "edges": len(dfg),
                  "transitions": int(sum(dfg.values())), "variants": len(variants)}))
"""
API_SCRIPT = """
import json, sys, tempfile, time
t0 = time.perf_counter()
import cscflow
from cscflow.journeys import flow, load_map
from cscflow.sources import load
t1 = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    ws = cscflow.Workspace(d)
    load(ws, [sys.argv[1]], format="events", open_stages=True)
    t2 = time.perf_counter()
    pmap = load_map("auto", ws)
    g = flow.dfg(ws, pmap)
    v = flow.variants(ws, pmap)
    t3 = time.perf_counter()
    ws.close()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "tables": t3 - t2, "edges": len(g),
                  "transitions": int(g.transitions.sum()), "variants": len(v)}))
"""
SQL_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
import duckdb
t1 = time.perf_counter()
CASE, ACT, TS = "case:concept:name", "concept:name", "time:timestamp"
con = duckdb.connect()
con.execute(f'''CREATE TABLE ev AS SELECT CAST("{CASE}" AS VARCHAR) AS c, "{ACT}" AS a,
    CAST("{TS}" AS TIMESTAMP) AS t, row_number() OVER () AS r FROM read_csv('{sys.argv[1]}')''')
t2 = time.perf_counter()
g = con.execute('''SELECT a AS source, na AS target, count(*) AS transitions, count(DISTINCT c) AS cases,
    avg(d) AS mean_days, median(d) AS median_days
    FROM (SELECT c, a, lead(a) OVER w AS na, date_diff('millisecond', t, lead(t) OVER w) / 86400000.0 AS d
          FROM ev WINDOW w AS (PARTITION BY c ORDER BY t, r)) WHERE na IS NOT NULL GROUP BY 1, 2''').df()
v = con.execute('''SELECT v, count(*) AS cases FROM (SELECT c, string_agg(a, ' > ' ORDER BY t, r) AS v
    FROM ev GROUP BY c) GROUP BY v''').df()
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "tables": t3 - t2, "edges": len(g),
                  "transitions": int(g.transitions.sum()), "variants": len(v)}))
"""


def load_avg() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


#: CPU seconds (user + system) of the last process :func:`timed` ran: steadier than wall time on shared cores.
LAST_CPU = [0.0]


def timed(cmd: list[str], **kw) -> tuple[float, str]:
    """Wall time of ``cmd`` as a whole process and its standard output (it must succeed); its CPU time is left
    in ``LAST_CPU``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=kw.pop("cwd", ROOT), **kw)
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed: {out.stderr[-2000:]}")
    return took, out.stdout


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def runs(xs: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in xs)


# -- 1. BPIC 2012 x10 ------------------------------------------------------------------------------
def bpic_file() -> Path:
    from bench.bench_journeys import BPIC, replicate

    path = OUT / "bpic2012_x10.csv"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        replicate(BPIC, 10, path)
    return path


def bpic() -> None:
    from bench.bench_journeys import BPIC

    if not BPIC.is_file():
        print(f"BPIC 2012 not found at {BPIC}; skipped")
        return
    pm4py_py = os.environ.get("CSCFLOW_BENCH_PM4PY_PYTHON", PY)
    have = subprocess.run([pm4py_py, "-c", "import pm4py; print(pm4py.__version__)"], capture_output=True, text=True)
    if have.returncode:
        print(f"pm4py is not importable by {pm4py_py} (set CSCFLOW_BENCH_PM4PY_PYTHON): its baseline is skipped")
    log = bpic_file()
    scripts = Path(tempfile.mkdtemp())
    for name, text in (("pm4py_run.py", PM4PY_SCRIPT), ("api_run.py", API_SCRIPT), ("sql_run.py", SQL_SCRIPT)):
        (scripts / name).write_text(text)
    cli: dict[str, list[float]] = {"load": [], "dfg": [], "durations": [], "variants": [], "total": [], "cpu": []}
    cpus: dict[str, list[float]] = {"pm4py": [], "api": [], "sql": []}
    proc: dict[str, list[dict]] = {"pm4py": [], "api": [], "sql": []}
    whole: dict[str, list[float]] = {"pm4py": [], "api": [], "sql": []}
    print(f"BPIC2012 x10: {log} ({log.stat().st_size / 1e6:.0f} MB); pm4py "
          f"{have.stdout.strip() or 'missing'} via {pm4py_py}; {load_avg()} at the start")
    for _ in range(REPEAT):  # alternating, so that the machine's load falls on all alike
        with tempfile.TemporaryDirectory() as d:
            ws = str(Path(d) / "ws")
            t, _ = timed([CSCFLOW, "load", ws, str(log), "--format", "events", "--open-stages", "--quiet"])
            total, total_cpu = t, LAST_CPU[0]
            cli["load"].append(t)
            for table in ("dfg", "durations", "variants"):
                t, _ = timed([CSCFLOW, "flow", ws, table, "--map", "auto"])
                cli[table].append(t)
                total += t
                total_cpu += LAST_CPU[0]
            cli["total"].append(total)
            cli["cpu"].append(total_cpu)
        for name, py in (("pm4py", pm4py_py), ("api", PY), ("sql", PY)):
            if name == "pm4py" and have.returncode:
                continue
            t, out = timed([py, str(scripts / f"{name}_run.py"), str(log)])
            whole[name].append(t)
            cpus[name].append(LAST_CPU[0])
            proc[name].append(json.loads(out.strip().splitlines()[-1]))
    shutil.rmtree(scripts, ignore_errors=True)
    print(f"  {REPEAT} alternating runs, {load_avg()} at the end; medians (runs):")
    print(f"  cscflow, four processes: load {med(cli['load']):.2f} s + dfg {med(cli['dfg']):.2f} + durations "
          f"{med(cli['durations']):.2f} + variants {med(cli['variants']):.2f} = {med(cli['total']):.2f} s "
          f"({runs(cli['total'])}); CPU {med(cli['cpu']):.2f} s")
    inproc = {k: [r["load"] + r["tables"] for r in v] for k, v in proc.items()}
    for name, label in (("api", "cscflow Python API, one process"), ("sql", "hand-written DuckDB SQL, one process"),
                        ("pm4py", "pm4py script, one process")):
        if not whole[name]:
            continue
        r = proc[name][-1]
        print(f"  {label}: {med(whole[name]):.2f} s as a process ({runs(whole[name])}; CPU {med(cpus[name]):.2f} s); "
              f"in the process "
              f"(load + tables, no imports) {med(inproc[name]):.2f} s ({runs(inproc[name])}): load "
              f"{med([x['load'] for x in proc[name]]):.2f}, tables {med([x['tables'] for x in proc[name]]):.2f}, "
              f"imports {med([x['import'] for x in proc[name]]):.2f}; {r['edges']} edges, {r['transitions']:,} "
              f"transitions, {r['variants']:,} variants")
    if whole["pm4py"]:
        p = med(whole["pm4py"])
        print(f"  => four cscflow processes vs the pm4py script: {p / med(cli['total']):.1f}x faster (target >= 3x); "
              f"CPU time {med(cpus['pm4py']) / med(cli['cpu']):.1f}x less")
        print(f"  => Python API vs pm4py, in the process: {med(inproc['pm4py']) / med(inproc['api']):.1f}x faster; "
              f"as processes: {p / med(whole['api']):.1f}x (target >= 10x)")
        a, b = proc["api"][-1], proc["pm4py"][-1]
        assert (a["edges"], a["transitions"], a["variants"]) == (b["edges"], b["transitions"], b["variants"]), (a, b)
    print(f"  => Python API / hand-written SQL, in the process: {med(inproc['api']) / med(inproc['sql']):.2f}x; as "
          f"processes: {med(whole['api']) / med(whole['sql']):.2f}x (target <= 1.2x)")
    a, s = proc["api"][-1], proc["sql"][-1]
    assert (a["edges"], a["transitions"], a["variants"]) == (s["edges"], s["transitions"], s["variants"]), (a, s)


# -- 2. start-up ------------------------------------------------------------------------------------
def startup() -> None:
    n = max(REPEAT * 3, 9)
    got: dict[str, list[float]] = {"help": [], "pass": [], "click": []}
    cpu = []
    for _ in range(n):
        got["help"].append(timed([CSCFLOW, "--help"])[0])
        cpu.append(LAST_CPU[0])
        got["pass"].append(timed([PY, "-c", "pass"])[0])
        got["click"].append(timed([PY, "-c", "import click"])[0])
    print(f"cscflow --help as a process: median {med(got['help']):.3f} s of {n} (max {max(got['help']):.3f}; CPU "
          f"{med(cpu):.3f} s; target <= 0.3 s); python -c pass {med(got['pass']):.3f} s, python -c 'import click' "
          f"{med(got['click']):.3f} s ({load_avg()})")


# -- 3. the county: cscflow load of its returns, then every flow table ----------------------------------
def county_files() -> list[Path]:
    folder = os.environ.get("CSCFLOW_BENCH_COUNTY")
    if folder:
        f = Path(folder)
        return [f / "annex_a.xlsx", *sorted(f.glob("cin_census_*.xml")), f / "ssda903"]
    from bench.bench_load import _county_files

    return _county_files()


def county() -> None:
    files = county_files()
    bare = ("import sys; from pathlib import Path; from bench.bench_load import _bare_read; "
            "print(_bare_read([Path(p) for p in sys.argv[1:]]))")
    ws = OUT / "county_ws"
    loads, bares, load_cpu, bare_cpu = [], [], [], []
    for _ in range(REPEAT):
        shutil.rmtree(ws, ignore_errors=True)
        t, out = timed([CSCFLOW, "load", str(ws), *map(str, files), "--la", "886", "--quiet"])
        loads.append(t)
        load_cpu.append(LAST_CPU[0])
        bares.append(timed([PY, "-c", bare, *map(str, files)])[0])
        bare_cpu.append(LAST_CPU[0])
    last = out.strip().splitlines()[-2:]
    print(f"cscflow load of the county's returns ({len(files)} paths) as a process: median {med(loads):.2f} s "
          f"({runs(loads)}; CPU {med(load_cpu):.2f} s; target <= 15 s); bare parse of the same files in a process "
          f"{med(bares):.2f} s ({runs(bares)}; CPU {med(bare_cpu):.2f} s); ratio {med(loads) / med(bares):.2f} "
          f"({load_avg()})")
    print("  " + " / ".join(last))
    floor, floor_cpu = [], []
    for _ in range(REPEAT):
        floor.append(timed([PY, "-c", "import pandas, ibis, duckdb, pyarrow"])[0])
        floor_cpu.append(LAST_CPU[0])
    print(f"cscflow flow TABLE on the stored county workspace, each a whole process, median of {REPEAT} "
          f"(target <= 1 s); the imports no flow command can avoid (pandas, ibis, duckdb, pyarrow) take "
          f"{med(floor):.2f} s (CPU {med(floor_cpu):.2f} s) in a process ({load_avg()}):")
    worst = worst_cpu = 0.0
    for table in FLOW_TABLES:
        extra = ["--at", "2016-06-13"] if table == "before-after" else []
        ts, cpu = [], []
        for _ in range(REPEAT):
            ts.append(timed([CSCFLOW, "flow", str(ws), table, *extra])[0])
            cpu.append(LAST_CPU[0])
        worst, worst_cpu = max(worst, med(ts)), max(worst_cpu, med(cpu))
        print(f"  {table:13s} {med(ts):.2f} s ({runs(ts)}), CPU {med(cpu):.2f} s")
    print(f"  slowest table {worst:.2f} s wall, {worst_cpu:.2f} s CPU ({load_avg()})")


def bytecode() -> str:
    """Compile cscflow's modules to bytecode, as installing it does (pip compiles a wheel's modules; an
    editable install writes them on the first run). With PYTHONDONTWRITEBYTECODE set (as on the sandbox these
    benchmarks run on) nothing would write them, and every process would compile cscflow's source again: about
    0.05 s a command that no installed copy pays."""
    import compileall

    import cscflow

    ok = compileall.compile_dir(str(Path(cscflow.__file__).parent), quiet=1)
    return (f"cscflow's bytecode compiled as an install does ({'ok' if ok else 'with errors'}; "
            f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})")


def main() -> None:
    skip = set(filter(None, os.environ.get("CSCFLOW_BENCH_SKIP", "").split(",")))
    print(f"users benchmark: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {load_avg()}")
    print(bytecode())
    if "startup" not in skip:
        startup()
    if "county" not in skip:
        county()
    if "bpic" not in skip:
        bpic()


if __name__ == "__main__":
    main()
