"""CIN census XML throughput: cscflow's reader beside a bare lxml iterparse loop, same file, same run.

The file is the synthetic county's largest census year, its <Child> elements repeated
(with new LAchildIDs) to about ``TARGET_MB`` megabytes. The baseline is the cheapest useful
stream: ``lxml.etree.iterparse`` over every <Child> with element clearing and no work.
Run: ``python -m bench cin``.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from lxml import etree

TARGET_MB = float(os.environ.get("CSCFLOW_BENCH_CIN_MB", "50"))


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


def main() -> None:
    from cscflow.sources import cin

    with tempfile.TemporaryDirectory() as tmp:
        path = _build(Path(tmp))
        mb = path.stat().st_size / 1e6
        t0 = time.perf_counter()
        children = _bare(path)
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = cin.read([path])[0]
        ours = time.perf_counter() - t0
        result.check_accounted()
        print(f"file: {mb:.1f} MB, {children} <Child>, {result.rows_read} CINdetails, {len(result.episodes)} stays")
        print(f"bare lxml iterparse: {mb / bare:.1f} MB/s ({bare:.2f} s)")
        print(f"cscflow cin.read:    {mb / ours:.1f} MB/s ({ours:.2f} s)")
        print(f"ratio (ours / bare throughput): {bare / ours:.2f}")


if __name__ == "__main__":
    main()
