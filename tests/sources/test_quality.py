"""Impossible-sequence checks against a naive reference computed in the test."""

from __future__ import annotations

import pandas as pd

from cscflow.sources import load, quality_report


def _naive(ep: pd.DataFrame, dob: dict[str, pd.Timestamp]) -> dict[str, set]:
    out = {"s47 before referral": set(), "end before start": set(), "date of birth after referral": set(),
           "overlapping care episodes": set()}
    for child, g in ep.groupby("child_id"):
        refs = [r.start.normalize() for r in g.itertuples() if r.stage == "referral"]
        for r in g.itertuples():
            if r.stage == "s47" and not any(d <= r.start.normalize() for d in refs):
                out["s47 before referral"].add(child)
            if pd.notna(r.end) and r.end < r.start:
                out["end before start"].add(child)
            if r.stage == "referral" and child in dob and r.start.normalize() < dob[child]:
                out["date of birth after referral"].add(child)
        la = g[g.stage == "looked_after"].sort_values(["start", "end"])
        prev_end = None
        for i, r in enumerate(la.itertuples()):
            if i and (pd.isna(prev_end) or r.start < prev_end):
                out["overlapping care episodes"].add(child)
            prev_end = r.end
    return out


def test_sequence_checks_match_naive(tmp_path, workspace):
    log = tmp_path / "log.csv"
    log.write_text(
        "child_id,stage,start,end,birth\n"
        "A,s47,2020-01-05,2020-01-10,\n"            # s47 with no referral before
        "A,referral,2020-01-06,,\n"
        "B,referral,2020-01-01,,\n"
        "B,s47,2020-01-01,2020-01-03,\n"            # same day: fine
        "C,assessment,2020-02-10,2020-02-01,\n"     # end before start
        "D,looked_after,2019-01-01,2019-06-01,\n"
        "D,looked_after,2019-05-01,2019-08-01,\n"   # overlaps the previous
        "E,looked_after,2019-01-01,,\n"
        "E,looked_after,2019-03-01,2019-04-01,\n"   # previous still open
        "F,looked_after,2019-01-01,2019-02-01,\n"
        "F,looked_after,2019-02-01,,\n"             # consecutive: fine
        "G,referral,2010-01-01,,\n"
    )
    legal_like = tmp_path / "header.csv"  # a 903 header gives dates of birth for G (after its referral)
    legal_like.write_text("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nG,1,01/06/2012,WBRI,,,\nB,2,01/01/2015,WBRI,,,\n")
    load(workspace, [log])
    load(workspace, [legal_like], format="903")
    rep = quality_report(workspace)
    got = {p["problem"]: p["count"] for p in rep["sequences"]}
    ep = workspace.table("episodes").execute()
    idf = workspace.table("identifiers").execute().dropna(subset=["birth_date"])
    dob = {r.child_id: pd.Timestamp(r.birth_date) for r in idf.itertuples()}
    want = {k: len(v) for k, v in _naive(ep, dob).items() if v}
    assert got == want
    assert want == {"s47 before referral": 1, "end before start": 1, "date of birth after referral": 1,
                    "overlapping care episodes": 2}
    ex = [p for p in rep["sequences"] if p["problem"] == "date of birth after referral"][0]["examples"][0]
    assert "2012" not in str(ex)  # the date of birth itself is never shown
