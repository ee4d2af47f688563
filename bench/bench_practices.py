"""Every key-practice rule on the synthetic county (CIN census and legal returns loaded), target < 5 s,
beside a naive pandas baseline (the episodes pulled into pandas, working days counted row by row)
that must give the same statuses.

Run: ``python -m bench practices`` (or ``python bench/bench_practices.py [--quick] [--spark]``: the tiny
preset; the same tables copied into a local[2] Spark session and evaluated there too).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _build(preset: str, seed: int, root: Path):
    from cscflow import Workspace
    from cscflow.sources import load
    from cscflow.synth import synthesise

    t0 = time.perf_counter()
    paths = synthesise(preset, seed=seed, out_dir=root / "files", formats=["cin", "legal"])
    files = [p for p in paths if p.suffix in (".xml", ".xlsx")]
    ws = Workspace(root / "ws", la="886")
    load(ws, files)
    print(f"built the {preset} county: {ws.count('episodes'):,} stays in {time.perf_counter() - t0:.1f} s", flush=True)
    return ws


def naive(ws, as_of) -> pd.DataFrame:
    """Baseline: pandas on the whole episodes table; working days per row with np.busday_count."""
    from cscflow.model.calendar import bank_holidays

    hol = np.array(bank_holidays(), dtype="datetime64[D]")
    ep = ws.table("episodes").execute()
    ep["day"] = ep["start"].dt.normalize()
    ep = ep.sort_values(["end"], na_position="last").drop_duplicates(["child_id", "stage", "day"])
    asof = pd.Timestamp(as_of)
    rows = []
    for rule, stage, prior, n, outcomes in (("assessment-45wd", "assessment", "referral", 45, None),
                                            ("icpc-15wd", "s47", "strategy_discussion", 15, {"icpc"})):
        st = ep[ep["stage"] == stage]
        pr = ep[ep["stage"] == prior].groupby("need_id")["day"].apply(list).to_dict()
        for r in st.itertuples():
            cands = [d for d in pr.get(r.need_id, []) if d <= r.day]
            start = max(cands) if cands else r.day
            if start > asof:
                continue
            stop = r.end.normalize() if pd.notna(r.end) and r.end <= asof else pd.NaT
            if outcomes and pd.notna(r.end) and r.outcome not in outcomes:
                continue
            upto = stop if pd.notna(stop) else asof
            wd = int(np.busday_count(np.datetime64(start.date()) + 1, np.datetime64(upto.date()) + 1, holidays=hol))
            status = ("met" if wd <= n else "breached") if pd.notna(stop) else ("open" if wd <= n else "overdue")
            rows.append((rule, r.child_id, start, status))
    p = ws.table("proceedings").execute()
    for r in p.itertuples():
        start = pd.Timestamp(r.application_date)
        if pd.isna(start) or start > asof:
            continue
        due = start + pd.Timedelta(weeks=26)
        stop = pd.Timestamp(r.final_order_date) if pd.notna(r.final_order_date) else pd.NaT
        stop = stop if pd.notna(stop) and stop <= asof else pd.NaT
        status = ("met" if stop <= due else "breached") if pd.notna(stop) else ("open" if asof <= due else "overdue")
        rows.append(("proceedings-26wk", r.child_id, start, status))
    return pd.DataFrame(rows, columns=["rule", "child_id", "start", "status"])


def spark_time(ws, as_of) -> None:
    """The same evaluation on a local[2] Spark session (the county's tables copied in)."""
    import os

    from pyspark.sql import SparkSession

    from cscflow import Workspace
    from cscflow.practices import evaluate

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (SparkSession.builder.master("local[2]").appName("bench-practices").config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "4").config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        sw = Workspace.from_spark(spark, database="bench_practices", key_file=Path(tmp) / "key")
        for name in ("episodes", "children", "proceedings"):
            sw.write(name, ws.table(name).to_pyarrow(), mode="replace")
        sw.calendar()
        t0 = time.perf_counter()
        out = evaluate(sw, as_of=as_of)
        print(f"Spark local[2]: {len(out):,} clocks in {time.perf_counter() - t0:.2f} s", flush=True)
        spark.sql("DROP DATABASE IF EXISTS bench_practices CASCADE")
    spark.stop()


def main(quick: bool = False, spark: bool = False) -> None:
    from cscflow.practices import evaluate
    from cscflow.practices.clocks import as_of_default

    with tempfile.TemporaryDirectory() as tmp:
        ws = _build("tiny" if quick else "county", 3, Path(tmp))
        as_of = as_of_default(ws)
        evaluate(ws)  # the calendar table is created on first use
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            ours = evaluate(ws, as_of=as_of)
            best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        base = naive(ws, as_of)
        t_base = time.perf_counter() - t0
        a = ours[ours.rule.isin(base.rule.unique())].groupby(["rule", "status"]).size()
        b = base.groupby(["rule", "status"]).size()
        same = a.sort_index().equals(b.sort_index())
        print(f"{len(ours):,} clocks of {ours.rule.nunique()} rules: cscflow {best:.2f} s (target < 5 s), "
              f"naive pandas {t_base:.2f} s, {t_base / best:.1f}x; statuses equal: {same}")
        print(a.to_string())
        if spark:
            spark_time(ws, as_of)
        ws.close()


if __name__ == "__main__":
    main(quick="--quick" in sys.argv, spark="--spark" in sys.argv)
