"""Linkage (issue 14) and every key-practice rule (issue 15) on the national preset, Spark local[2] beside DuckDB.

The same sample of LAs as ``bench_spark_national`` (:mod:`bench.spark_common`), synthesised with each LA's legal
department's care-proceedings sheet and its link truth (``truth/proceedings_links/la=<code>/``). Into a multi-LA
workspace, per engine (DuckDB first, then Spark, the same key so the same pseudonyms), each step timed (wall, CPU
of Python and of the JVM, the load average at its end: the 2 cores are shared):

1. ``load``: each LA's events (:func:`bench.spark_common.load_events`), ``load legal``: each LA's sheet (``la=``
   its code), ``people``: each LA's person list (:func:`cscflow.linkage.people.load_people`; the case-management
   system's names, here the synth's truth of the children in the LA's events);
2. ``practices``: every rule (:func:`cscflow.practices.evaluate`) at the last date of the stays, before linkage
   (so the proceedings clocks do not depend on either engine's links);
3. ``link``: :func:`cscflow.linkage.link_proceedings` (Splink on the workspace's engine: DuckDB, or Spark through
   the workspace's session), then ``write links`` (:func:`cscflow.linkage.write_links`).

Then: the clock tables of the two engines compared (rows in any order); each legal row's best candidate, its
status and probability compared; precision and recall of both engines' links against the truth (recall of the
legal rows that have a true child, as ``bench_linkage``), and how many true children sit in the review band.
A difference in the clocks fails the run; links are reported as they are, with the two trained models side by
side (Splink samples the pairs of its u estimates differently on each engine, so probabilities differ a little).
Figures go to ``bench/out/spark_national_extras/result.json`` for
docs/benchmarks.md (``## spark-national-linkage``, ``## spark-national-practices``).

``.venv/bin/python -m bench spark_national_extras``; the environment of :mod:`bench.spark_common`, and
``CSCFLOW_BENCH_ENGINES`` (default ``duckdb,spark``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from bench import spark_common as common

OUT = Path(__file__).parent / "out" / "spark_national_extras"
DATABASE = "bench_spark_national_extras"
#: Links agree when the best candidate and the status agree, and the probabilities to this much.
PROBABILITY_TOLERANCE = 1e-3


def people_lists(data: Path, files: dict[str, Path], out: Path) -> dict[str, Path]:
    """Each LA's person list (child id, names, date of birth, sex) of the children in its events, from the truth."""
    import pyarrow.parquet as pq

    out.mkdir(parents=True)
    lists = {}
    for la, events in files.items():
        known = set(pq.read_table(events, columns=["child_id"]).column("child_id").to_pylist())
        kids = pd.read_parquet(data / "truth" / "children" / f"la={la}" / "part-0.parquet")
        kids = kids[kids["child_id"].isin(known)]
        lists[la] = out / f"people_{la}.csv"
        kids.rename(columns={"child_id": "Child ID", "surname": "Surname", "forenames": "Forename(s)",
                             "birth_date": "Date of birth", "sex": "Gender"})[
            ["Child ID", "Surname", "Forename(s)", "Date of birth", "Gender"]].to_csv(lists[la], index=False)
    return lists


def run_engine(ws: Any, timer: common.Timer, files: dict[str, Path], data: Path, people: dict[str, Path],
               as_of: Any) -> tuple[pd.DataFrame, Any]:
    from cscflow.linkage import link_proceedings, write_links
    from cscflow.linkage.people import load_people
    from cscflow.practices import evaluate
    from cscflow.sources import load

    sheets = {la: data / "legal" / f"la={la}" / "legal_proceedings.xlsx" for la in files}
    timer.run("load", lambda: common.load_events(ws, files))
    timer.run("load legal", lambda: sum(r.rows_loaded for la, p in sheets.items() for r in load(ws, [p], la=la)))
    timer.run("people", lambda: sum(load_people(ws, p, la=la) for la, p in people.items()))
    day = as_of or _as_of(ws)
    clocks = timer.run("practices", lambda: evaluate(ws, as_of=day))
    result = timer.run("link", lambda: link_proceedings(ws))
    timer.run("write links", lambda: write_links(ws, result))
    print(f"  {timer.engine:7} {len(clocks):,} clocks of {clocks['rule'].nunique()} rules at {day}; links: "
          f"{result.counts()}", flush=True)
    return clocks, result


def _as_of(ws: Any) -> Any:
    from cscflow.practices.clocks import as_of_default

    return as_of_default(ws)


def accuracy(ws: Any, rows: pd.DataFrame, data: Path, las: list[str]) -> dict[str, Any]:
    """Precision and recall of the linked rows against each LA's truth; the review band's true children."""
    parts = []
    for la in las:
        truth = pd.read_csv(data / "truth" / "proceedings_links" / f"la={la}" / "proceedings_links.csv", dtype=str,
                            keep_default_na=False)
        known = truth["child_id"] != ""
        truth["true_child"] = None
        truth.loc[known, "true_child"] = list(ws.pseudonymise(truth.loc[known, "child_id"].tolist(), la=la))
        truth["source"] = f"la={la}/legal_proceedings.xlsx"
        truth["source_row"] = truth["row"].astype(int)
        parts.append(truth[["source", "source_row", "true_child", "imperfections"]].assign(la=la))
    truth = pd.concat(parts, ignore_index=True)
    m = rows.merge(truth, on=["source", "source_row"], how="outer", validate="one_to_one", indicator=True)
    if (m["_merge"] != "both").any():
        raise SystemExit(f"{(m['_merge'] != 'both').sum()} legal rows not matched to the truth")
    has = m["true_child"].notna()
    linked = m["status"] == "linked"
    right = linked & (m["candidate_child_id"] == m["true_child"])
    review = m["status"] == "review"
    per_la = {}
    for la, g in m.groupby("la"):
        gl, gr = g["status"] == "linked", (g["status"] == "linked") & (g["candidate_child_id"] == g["true_child"])
        per_la[la] = {"rows": len(g), "precision": gr.sum() / max(1, gl.sum()),
                      "recall": gr.sum() / max(1, g["true_child"].notna().sum())}
    missed = m[has & ~right]
    return {
        "rows": len(m), "with_true_child": int(has.sum()), "linked": int(linked.sum()), "right": int(right.sum()),
        "wrong": int((linked & ~right).sum()), "review": int(review.sum()),
        "review_true": int((review & (m["candidate_child_id"] == m["true_child"])).sum()),
        "missed": int(len(missed)), "missed_in_review": int((missed["status"] == "review").sum()),
        "missed_imperfections": missed["imperfections"].replace("", "(none)").value_counts().to_dict(),
        "precision": float(right.sum() / max(1, linked.sum())), "recall": float(right.sum() / max(1, has.sum())),
        "per_la": per_la,
    }


def compare_links(got: pd.DataFrame, want: pd.DataFrame) -> dict[str, Any]:
    """How many legal rows differ between two runs: best candidate, status, probability."""
    key = ["proceedings_id"]
    cols = ["candidate_child_id", "status", "match_probability"]
    m = want[key + cols].merge(got[key + cols], on=key, how="outer", suffixes=("_duck", "_spark"), indicator=True)
    both = m["_merge"] == "both"
    cand = both & (m["candidate_child_id_duck"].fillna("") != m["candidate_child_id_spark"].fillna(""))
    stat = both & (m["status_duck"] != m["status_spark"])
    gap = (m["match_probability_duck"] - m["match_probability_spark"]).abs()
    diff = pd.concat([m[cand | stat], m[~(cand | stat) & (gap > PROBABILITY_TOLERANCE)].head(3)])
    return {"rows": int(both.sum()), "only_one_side": int((~both).sum()), "candidate_differs": int(cand.sum()),
            "status_differs": int(stat.sum()), "probability_max_gap": float(gap.max()),
            "probability_over_tolerance": int((gap > PROBABILITY_TOLERANCE).sum()),
            "examples": diff.drop(columns=["_merge", *key]).to_dict("records")}


def compare_models(got: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """The trained models side by side: the prior, and per comparison level m and u (the largest gaps)."""
    def levels(model: dict[str, Any]) -> dict[str, tuple[float, float]]:
        return {f"{c['output_column_name']}: {lv.get('label_for_charts', i)}": (lv.get("m_probability"),
                                                                               lv.get("u_probability"))
                for c in model.get("comparisons", []) for i, lv in enumerate(c["comparison_levels"])
                if not lv.get("is_null_level")}

    a, b = levels(want), levels(got)
    rows = [{"level": k, "m_duck": a[k][0], "m_spark": b[k][0], "u_duck": a[k][1], "u_spark": b[k][1]}
            for k in a if k in b]
    frame = pd.DataFrame(rows)
    for c in ("m", "u"):
        frame[f"{c}_ratio"] = (frame[f"{c}_spark"].astype(float) / frame[f"{c}_duck"].astype(float)).round(4)
    return {"prior_duck": want.get("probability_two_random_records_match"),
            "prior_spark": got.get("probability_two_random_records_match"),
            "levels": frame.to_dict("records")}


def main() -> None:
    from cscflow import Workspace

    cfg = common.Settings.from_env()
    engines = [e.strip() for e in os.environ.get("CSCFLOW_BENCH_ENGINES", "duckdb,spark").split(",") if e.strip()]
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    cfg.describe()
    sample = common.synthesise_sample(OUT, cfg.las, formats=("events", "legal"))
    people = people_lists(sample.data, sample.files, OUT / "people")
    print(f"  person lists: {sum(len(pd.read_csv(p, usecols=[0])) for p in people.values()):,} children")
    clocks, results, timers, quality = {}, {}, {}, {}
    as_of = None
    key = OUT / "duck" / "key"
    if "duckdb" in engines:
        timers["duckdb"] = common.Timer("duckdb")
        duck = Workspace(OUT / "duck", multi_la=True)
        clocks["duckdb"], results["duckdb"] = run_engine(duck, timers["duckdb"], sample.files, sample.data, people,
                                                         None)
        as_of = clocks["duckdb"].attrs["as_of"]
        quality["duckdb"] = accuracy(duck, results["duckdb"].rows, sample.data, cfg.las)
        duck.close()
    if "spark" in engines:
        timers["spark"] = common.Timer("spark")
        session = timers["spark"].run("session", lambda: common.spark_session(OUT, cfg.memory, cfg.partitions))
        try:
            sw = Workspace.from_spark(session, database=DATABASE, key_file=key, multi_la=True)
            clocks["spark"], results["spark"] = run_engine(sw, timers["spark"], sample.files, sample.data, people,
                                                           as_of)
            quality["spark"] = accuracy(sw, results["spark"].rows, sample.data, cfg.las)
        finally:
            session.sql(f"DROP DATABASE IF EXISTS `{DATABASE}` CASCADE")
            session.stop()
    report(cfg, sample, timers, clocks, results, quality)


def report(cfg: common.Settings, sample: Any, timers: dict[str, common.Timer], clocks: dict[str, pd.DataFrame],
           results: dict[str, Any], quality: dict[str, dict[str, Any]]) -> None:
    for engine, q in quality.items():
        print(f"linkage on {engine}: {q['rows']:,} legal rows ({q['with_true_child']:,} with a true child): "
              f"{q['linked']:,} linked, {q['review']:,} for review ({q['review_true']:,} of them the true child), "
              f"precision {q['precision']:.4f}, recall {q['recall']:.4f}; missed {q['missed']:,} "
              f"({q['missed_in_review']:,} in review): {q['missed_imperfections']}")
        for la, v in q["per_la"].items():
            print(f"    {cfg.names[la]:16} {v['rows']:6,} rows  precision {v['precision']:.4f}  recall {v['recall']:.4f}")
    links, clock_diff = {}, ""
    if len(results) == 2:
        links = compare_links(results["spark"].rows, results["duckdb"].rows)
        links["models"] = compare_models(results["spark"].model, results["duckdb"].model)
        print(f"links, Spark against DuckDB: {links['rows']:,} legal rows; best candidate differs in "
              f"{links['candidate_differs']}, status in {links['status_differs']}, probability by more than "
              f"{PROBABILITY_TOLERANCE} in {links['probability_over_tolerance']} (largest gap "
              f"{links['probability_max_gap']:.2e})")
        for e in links["examples"]:
            print(f"    {e}")
        mod = links["models"]
        lv = pd.DataFrame(mod["levels"])
        print(f"  the models: prior DuckDB {mod['prior_duck']:.3e}, Spark {mod['prior_spark']:.3e}; m Spark/DuckDB "
              f"{lv['m_ratio'].min():.3f}..{lv['m_ratio'].max():.3f}, u {lv['u_ratio'].min():.3f}.."
              f"{lv['u_ratio'].max():.3f}")
        print(lv.to_string(index=False))
        clock_diff = common.compare("clocks", clocks["spark"], clocks["duckdb"])
        print(f"clocks, Spark against DuckDB: {len(clocks['duckdb']):,} rows "
              f"{'equal' if not clock_diff else 'DIFFERENT: ' + clock_diff}")
        per_rule = clocks["duckdb"].groupby(["rule", "status"]).size().unstack(fill_value=0)
        print(per_rule.to_string())
    print("per step, wall / CPU seconds (Python) (load average at the end of the step):")
    for step in ["load", "load legal", "people", "practices", "link", "write links"]:
        cells = [f"{e}: {t.steps[step]['wall']:7.2f} / {t.steps[step]['cpu']:7.2f} "
                 f"({t.steps[step]['cpu_python']:6.2f}) ({t.steps[step]['load']:4.1f})"
                 for e, t in timers.items() if step in t.steps]
        print(f"  {step:12} " + "   ".join(cells))
    print(f"load average now {common.load_average():.1f}")
    result = {"las": cfg.las, "population_share": cfg.share, "stays": sample.stays, "memory": cfg.memory,
              "partitions": cfg.partitions, "synth": sample.timer.steps,
              **{e: t.steps for e, t in timers.items()}, "quality": quality, "links": links,
              "clocks": {e: len(c) for e, c in clocks.items()}, "clock_difference": clock_diff,
              "clock_statuses": {e: {f"{r} {s}": int(n) for (r, s), n in c.groupby(["rule", "status"]).size().items()}
                                 for e, c in clocks.items()},
              "unavailable": {e: c.attrs.get("unavailable") for e, c in clocks.items()}}
    (OUT / "result.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"written {OUT / 'result.json'}")
    if clock_diff:
        raise SystemExit("the clocks of Spark and DuckDB differ")


if __name__ == "__main__":
    main()
