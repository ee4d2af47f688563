"""Proceedings analyses after linkage, against the synthetic county's truth."""

from __future__ import annotations

import pandas as pd
import pytest

from cscflow.analytics import run
from cscflow.linkage import analyses, write_links


@pytest.fixture(scope="module")
def linked(small_county):
    ws, truth, result, _, out = small_county
    write_links(ws, result)
    return ws, pd.read_parquet(out / "synth" / "truth" / "proceedings.parquet")


def test_never_looked_after_recovers_truth(linked):
    ws, truth = linked
    t = analyses.never_looked_after(ws).set_index("year")
    share = t.loc["all", "never_looked_after"] / t.loc["all", "proceedings"]
    print(f"never looked after: {share:.4f} (truth {truth['never_looked_after'].mean():.4f})")
    assert abs(share - truth["never_looked_after"].mean()) < 0.02
    assert t.drop(index="all")["proceedings"].sum() == t.loc["all", "proceedings"]


def test_26_weeks_recovers_truth(linked):
    ws, truth = linked
    t = analyses.duration(ws)
    allc = t[t["court"] == "all"]
    share = allc["within_26_weeks"].sum() / allc["concluded"].sum()
    c = truth.dropna(subset=["final_order_date"])
    weeks = (c["final_order_date"] - c["application_date"]).dt.days / 7
    print(f"within 26 weeks: {share:.4f} (truth {(weeks <= 26).mean():.4f})")
    assert abs(share - (weeks <= 26).mean()) < 0.03
    # the per-court rows add up to the year's 'all' row
    per = t[t["court"] != "all"].groupby("year")["concluded"].sum()
    assert per.equals(allc.set_index("year")["concluded"])


def test_stage_at_application_and_final_order(linked):
    ws, _ = linked
    t = analyses.stage_at(ws)
    assert set(t["moment"]) == {"application", "final_order"}
    assert t.groupby("moment")["share"].sum().round(9).eq(1).all()
    # children in care at application carry a legal status; others none
    la = t[t["stage"] == "looked_after"]
    assert (la["legal_status"] != "").all() and (t.loc[t["stage"] != "looked_after", "legal_status"] == "").all()


@pytest.mark.parametrize("name", ["proceedings-stage", "proceedings-never-looked-after", "proceedings-duration",
                                  "proceedings-return"])
def test_run_discloses(linked, name):
    ws, _ = linked
    res = run(ws, name)
    assert res.method
    shown = res.export()
    assert len(shown) == len(res.table) or name == "proceedings-return"  # curves are coarsened
    assert res.figure is not None


def test_return_to_court_is_a_survival_curve(linked):
    ws, _ = linked
    km, curves = analyses.return_to_court(ws)
    for _, g in curves.groupby("group"):
        assert g["survival"].is_monotonic_decreasing
        assert g["at_risk"].is_monotonic_decreasing
