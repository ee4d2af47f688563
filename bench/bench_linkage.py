"""Benchmark: link the county's legal sheet end to end (``cscflow link``), against a naive baseline.

The baseline is deterministic exact matching on surname, first forename and date of birth (what a
spreadsheet lookup does), timed and scored in the same run. Usage::

    python bench/bench_linkage.py [--preset county] [--seed 1]

It synthesises the county (events and legal sheet), loads it, writes the person list from the
synth's truth, then times both and prints precision and recall against the truth.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.linkage.conftest import accuracy, build  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="county")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from cscflow.linkage import link_proceedings
    from cscflow.linkage.records import child_records, legal_records

    with tempfile.TemporaryDirectory() as tmp:
        ws, truth, _ = build(Path(tmp), args.preset, args.seed)
        t0 = time.perf_counter()
        result = link_proceedings(ws)
        t_splink = time.perf_counter() - t0
        p, r = accuracy(result.rows, truth)
        t0 = time.perf_counter()
        legal, procs = legal_records(ws)
        kids = child_records(ws, sorted(set(procs["source"].dropna())))
        key = ["surname", "forename1", "dob"]
        m = legal.merge(kids.dropna(subset=key).drop_duplicates(key, keep=False), on=key, suffixes=("", "_c"))
        base = procs[["source", "source_row", "proceedings_id"]].merge(
            m[["unique_id", "unique_id_c"]], left_on="proceedings_id", right_on="unique_id", how="left")
        base["status"] = base["unique_id_c"].notna().map({True: "linked", False: "unlinked"})
        base["child_id"] = base["unique_id_c"]
        t_base = time.perf_counter() - t0
        bp, br = accuracy(base, truth)
        print(f"{len(result.rows):,} legal rows, {len(kids):,} children")
        print(f"splink (EM, TF, court dates): {t_splink:.1f} s, precision {p:.4f}, recall {r:.4f}")
        print(f"baseline exact match:         {t_base:.1f} s, precision {bp:.4f}, recall {br:.4f}")
        print(f"time ratio {t_splink / max(t_base, 1e-9):.1f}x; recall gained {r - br:+.4f}")
        ws.close()


if __name__ == "__main__":
    main()
