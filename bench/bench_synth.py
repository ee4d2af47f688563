"""Benchmark of the synthetic county (issue 3).

1. ``county``: simulate and write every available format, wall time and peak memory (a fresh
   process), against a baseline measured in the same run: writing the same stays (the truth
   journeys) to CSV with the standard library's ``csv`` module, row by row. Target: < 60 s, < 4 GB.
2. ``national``: LA-by-LA streaming to partitioned Parquet on a sample of LAs (Kent, the largest,
   included so peak memory is that of the largest LA): stays per second and peak memory, with the
   all-England time extrapolated from the sample's share of the 0-17 population.

``python -m bench synth`` (add ``--all-las`` after ``bench/bench_synth.py`` to run every LA).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COUNTY = r"""
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from cscflow.synth.run import synthesise
from cscflow.synth.writers import available
t1 = time.perf_counter()
steps = []
paths = synthesise("county", seed=1, out_dir=sys.argv[1], formats=available(), progress=steps.append)
t2 = time.perf_counter()
size = sum(p.stat().st_size for p in paths if p.exists())
print(json.dumps({"steps": steps, "import_s": t1 - t0, "run_s": t2 - t1, "files": len(paths), "bytes": size,
                  "formats": available(), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BASELINE = r"""
import csv, json, resource, sys, time
import pyarrow.parquet as pq
rows = pq.read_table(sys.argv[1] + "/truth/journeys.parquet").to_pylist()
t0 = time.perf_counter()
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(list(rows[0]))
    for r in rows:
        w.writerow([("" if v is None else v) for v in r.values()])
print(json.dumps({"rows": len(rows), "csv_s": time.perf_counter() - t0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

NATIONAL = r"""
import json, resource, sys, time
from pathlib import Path
import pyarrow.parquet as pq
from cscflow.synth.national import la_populations, synthesise_national
las = None if sys.argv[2] == "all" else sys.argv[2].split(",")
t0 = time.perf_counter()
paths = synthesise_national(seed=1, out_dir=sys.argv[1], las=las)
dt = time.perf_counter() - t0
events = [p for p in paths if "/events/" in str(p)]
n = sum(pq.ParquetFile(p).metadata.num_rows for p in events)
pops = {la: pop for la, _, pop in la_populations()}
share = sum(pops[la] for la in (las or pops)) / sum(pops.values())
print(json.dumps({"las": len(events), "stays": n, "seconds": dt, "stays_per_s": n / dt,
                  "population_share": share, "england_s_estimate": dt / share,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SAMPLE_LAS = "886,330,202,873,929"  # Kent (largest), Birmingham, Camden, Cambridgeshire, Northumberland


def _run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main(all_las: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"load average before: {load_average()}")
        t = time.perf_counter()
        c = _run(COUNTY, f"{tmp}/county")
        wall = time.perf_counter() - t
        print(f"county: simulate + write {', '.join(c['formats'])}: {c['run_s']:.1f} s "
              f"(+{c['import_s']:.1f} s imports; process {wall:.1f} s), peak {c['peak_mb']:.0f} MB, "
              f"{c['files']} files, {c['bytes'] / 1e6:.0f} MB")
        print("  " + "; ".join(c["steps"]))
        b = _run(BASELINE, f"{tmp}/county", f"{tmp}/baseline.csv")
        print(f"baseline: stdlib csv.writer of the same {b['rows']:,} stays: {b['csv_s']:.1f} s")
        print(f"ratio: simulate + all formats / baseline CSV = {c['run_s'] / b['csv_s']:.2f}")
        print(f"target: < 60 s and < 4096 MB -> {'met' if c['run_s'] < 60 and c['peak_mb'] < 4096 else 'NOT met'}")
        n = _run(NATIONAL, f"{tmp}/national", "all" if all_las else SAMPLE_LAS)
        print(f"national ({n['las']} LAs, {n['population_share']:.1%} of England's children): "
              f"{n['stays']:,} stays in {n['seconds']:.1f} s = {n['stays_per_s']:,.0f} stays/s, "
              f"peak {n['peak_mb']:.0f} MB; all England estimated {n['england_s_estimate'] / 60:.1f} min")
        print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main(all_las="--all-las" in sys.argv)
