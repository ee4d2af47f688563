"""CIN census XML throughput: cscflow's reader beside a bare lxml iterparse loop, same file, same run.

The file is the synthetic county's largest census year, its <Child> elements repeated
(with new LAchildIDs) to about ``TARGET_MB`` megabytes. The baseline is the cheapest useful
stream: ``lxml.etree.iterparse`` over every <Child> with element clearing and no work.
The two are run alternately ``REPEAT`` times and the medians reported, as wall-clock and as
process CPU time (the machine is shared, so wall-clock alone is noisy). The peak memory of
a separate process reading the file shows that the element tree does not grow with it.
Run: ``python -m bench cin`` (``CSCFLOW_BENCH_CIN_MB``, ``CSCFLOW_BENCH_CIN_REPEAT`` to change).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from lxml import etree

TARGET_MB = float(os.environ.get("CSCFLOW_BENCH_CIN_MB", "50"))
REPEAT = int(os.environ.get("CSCFLOW_BENCH_CIN_REPEAT", "3"))


def _build(out: Path) -> Path:
    from cscflow.synth import simulate
    from cscflow.synth.writers import cin as write_cin

    county = simulate("tiny", seed=3)
    files = write_cin.write(county, out, np.random.default_rng(0))
    text = max(files, key=lambda p: p.stat().st_size).read_text(encoding="utf-8")
    head, rest = text.split("<Children>", 1)
    body, tail = rest.rsplit("</Children>", 1)
    copies = max(1, int(TARGET_MB * 1e6 / max(1, len(body))))
    big = out / "cin_big.xml"
    with open(big, "w", encoding="utf-8") as fh:
        fh.write(head + "<Children>")
        for i in range(copies):
            fh.write(re.sub(r"<LAchildID>([^<]*)</LAchildID>", rf"<LAchildID>\1-{i}</LAchildID>", body))
        fh.write("</Children>" + tail)
    return big


def _bare(path: Path) -> int:
    n = 0
    for _event, elem in etree.iterparse(str(path), events=("end",), tag="Child", resolve_entities=False,
                                        no_network=True, load_dtd=False):
        n += 1
        elem.clear()
        while elem.getprevious() is not None:
            del elem.getparent()[0]
    return n


def _timed(fn, *args) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _peak_rss_mb(path: Path | None) -> float:
    """Peak resident memory (MB) of a fresh process that reads ``path`` with ``cin.read`` (None: imports only)."""
    code = "import sys; from pathlib import Path; from cscflow.sources import cin"
    if path is not None:
        code += "; cin.read([Path(sys.argv[1])])"
    # VmHWM (this process's own high-water mark; ru_maxrss would include the parent's, copied at fork)
    code += "; print([ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0])"
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[-1]) / 1024


def main() -> None:
    from cscflow.sources import cin

    with tempfile.TemporaryDirectory() as tmp:
        path = _build(Path(tmp))
        mb = path.stat().st_size / 1e6
        children = _bare(path)  # warm the page cache
        bare_wall, bare_cpu, ours_wall, ours_cpu = [], [], [], []
        result = None
        for _ in range(REPEAT):
            w, c, _n = _timed(_bare, path)
            bare_wall.append(w)
            bare_cpu.append(c)
            w, c, results = _timed(cin.read, [path])
            ours_wall.append(w)
            ours_cpu.append(c)
            result = results[0]
        result.check_accounted()
        med = statistics.median
        bw, bc, ow, oc = med(bare_wall), med(bare_cpu), med(ours_wall), med(ours_cpu)
        print(f"file: {mb:.1f} MB, {children} <Child>, {result.rows_read} CINdetails, {len(result.episodes)} stays; "
              f"medians of {REPEAT} alternating runs")
        print(f"bare lxml iterparse: {mb / bw:.1f} MB/s wall ({bw:.2f} s), {mb / bc:.1f} MB/s CPU ({bc:.2f} s)")
        print(f"cscflow cin.read:    {mb / ow:.1f} MB/s wall ({ow:.2f} s), {mb / oc:.1f} MB/s CPU ({oc:.2f} s)")
        print(f"ratio (ours / bare throughput): {bw / ow:.2f} wall, {bc / oc:.2f} CPU")
        print(f"all runs (s): bare {[round(x, 2) for x in bare_wall]}, ours {[round(x, 2) for x in ours_wall]}")
        print(f"peak memory of a process reading the {mb:.0f} MB file: {_peak_rss_mb(path):.0f} MB "
              f"(the same process importing only: {_peak_rss_mb(None):.0f} MB)")


if __name__ == "__main__":
    main()
