"""Benchmark: the synthetic county's writers (Annex A, CIN, 903 CSV, 903 XML, legal) on a preset.

Prints seconds per writer, the total, and the same Annex A workbook written with openpyxl's
write-only mode (the baseline our own xlsx writer replaces), with the ratio.

    .venv/bin/python -m bench.bench_writers [preset] [seed]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _openpyxl_baseline(out: Path, sheets) -> float:
    from openpyxl import Workbook

    t = time.perf_counter()
    wb = Workbook(write_only=True)
    for name, headers, frame in sheets:
        ws = wb.create_sheet(name)
        ws.append(headers)
        for row in frame[headers].astype(object).where(frame[headers].notna(), None).itertuples(index=False):
            ws.append(list(row))
    wb.save(out / "annex_a_openpyxl.xlsx")
    return time.perf_counter() - t


def main(preset: str = "county", seed: int = 1) -> dict:
    from cscflow.synth import simulate
    from cscflow.synth.writers import annex_a, cin, legal, ssda903, ssda903_xml

    t = time.perf_counter()
    county = simulate(preset, seed=seed)
    print(f"simulate {preset}: {time.perf_counter() - t:.1f} s; {len(county.children):,} children, "
          f"{len(county.journeys):,} stays")
    out = Path(tempfile.mkdtemp(prefix="bench_writers_"))
    times = {}
    for name, mod in (("annex-a", annex_a), ("cin", cin), ("903", ssda903), ("903-xml", ssda903_xml),
                      ("legal", legal)):
        t = time.perf_counter()
        paths = mod.write(county, out, np.random.default_rng(seed))
        times[name] = time.perf_counter() - t
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"  {name:8s} {times[name]:6.1f} s  {len(paths):3d} files  {size:7.1f} MB")
    total = sum(times.values())
    print(f"writers total: {total:.1f} s")
    # baseline: the same Annex A lists through openpyxl write-only
    lists = annex_a._Lists(county, annex_a.children_frame(county),
                           *(lambda e: (e - annex_a.pd.DateOffset(years=1) + annex_a.pd.Timedelta(days=1), e))(
                               annex_a.pd.Timestamp(county.end)), np.random.default_rng(seed))
    sheets = [(n, annex_a.HEADINGS[n], getattr(lists, "list" + n.split()[1])()) for n in annex_a.HEADINGS]
    t = time.perf_counter()
    annex_a.write_xlsx(out / "annex_a_ours.xlsx", sheets, county.end)
    ours = time.perf_counter() - t
    base = _openpyxl_baseline(out, sheets)
    rows = sum(len(f) for _, _, f in sheets)
    print(f"Annex A xlsx ({rows:,} rows): ours {ours:.1f} s, openpyxl write-only {base:.1f} s, "
          f"ratio {base / ours:.1f}x")
    return {"writers_s": total, **times, "xlsx_ours_s": ours, "xlsx_openpyxl_s": base}


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["county"]), *(int(a) for a in sys.argv[2:3]))
