"""On the synthetic county (cscflow.synth), loaded through cscflow.sources: the journey engine recovers the
simulation's truth exactly where it is deterministic, and its parameters within sampling error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_timeline import compare, naive_timeline

from cscflow import Workspace
from cscflow.journeys import flow, load_map, timelines


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from cscflow.sources import load
    from cscflow.synth import simulate, synthesise

    d = tmp_path_factory.mktemp("county")
    truth = simulate("tiny", seed=3)
    paths = synthesise("tiny", seed=3, out_dir=d / "out", formats=["events"])
    ws = Workspace(d / "ws", la=truth.la)
    load(ws, [p for p in paths if p.name == "events.parquet"])
    j = truth.journeys.copy()
    j["child_id"] = ws.pseudonymise(j["child_id"])
    yield ws, truth, j
    ws.close()


def test_loaded_stays_are_the_truth(county):
    ws, _, j = county
    ep = ws.execute(ws.table("episodes"))
    key = ["child_id", "stage", "start"]
    assert len(ep) == len(j)
    a, b = (f[key].sort_values(key).reset_index(drop=True) for f in (ep, j))
    for f in (a, b):
        f["start"] = pd.to_datetime(f["start"]).astype("datetime64[us]")
    pd.testing.assert_frame_equal(a, b)


def test_timelines_equal_the_reference_on_the_truth(county):
    ws, _, j = county
    pmap = load_map("england")
    ep = ws.execute(ws.table("episodes"))
    got = ws.execute(timelines(ws, pmap)).sort_values(["child_id", "seq"]).reset_index(drop=True)
    want = naive_timeline(ep, pmap)
    compare(got, want)
    assert len(got) > len(j) * 0.9


def test_children_looked_after_on_31_march(county):
    ws, truth, j = county
    la = j[j.stage == "looked_after"]
    for year in truth.census_years():
        d = pd.Timestamp(f"{year}-03-31")
        want = la[(la.start <= d) & (la.end.isna() | (la.end > d))].child_id.nunique()
        got = flow.stations_on(ws, "england", d)
        n = got.loc[got.station == "looked_after", "children"]
        assert (int(n.iloc[0]) if len(n) else 0) == want
        cl = flow.caseload(ws, "england", start=d, end=d)
        assert int(cl.loc[cl.station == "looked_after", "children"].iloc[0]) == want


def test_rereferral_flags_and_rates(county):
    ws, truth, j = county
    r = j[j.stage == "referral"].sort_values(["child_id", "start"])
    prev = r.groupby("child_id")["start"].shift(1)
    w12 = np.array([pd.notna(p) and p >= s - pd.DateOffset(months=12) for p, s in zip(prev, r.start, strict=True)])
    w36 = np.array([pd.notna(p) and p >= s - pd.DateOffset(months=36) for p, s in zip(prev, r.start, strict=True)])
    flags = ws.execute(flow.referral_flags(ws)).sort_values(["child_id", "start"])
    assert len(flags) == len(r)
    assert flags.within_12.to_numpy().tolist() == w12.tolist()
    assert flags.within_36.to_numpy().tolist() == w36.tolist()
    table = flow.rereferrals(ws, "england").set_index("year")
    years, total = table.drop("all"), table.loc["all"]
    assert years.referrals.sum() == len(r) and years.within_12.sum() == w12.sum() and years.within_36.sum() == w36.sum()
    # the "all" row pools the years whose look-backs lie inside the data (issue 11)
    done = years[years.complete]
    assert total.referrals == done.referrals.sum() and total.within_12 == done.within_12.sum()


def test_nfa_after_assessment_by_previous_referrals(county):
    ws, _, j = county
    r = j[j.stage == "referral"].sort_values(["child_id", "start"]).copy()
    r["prior"] = r.groupby("child_id").cumcount()
    a = j[(j.stage == "assessment") & j.end.notna()].merge(r[["child_id", "need_id", "prior"]],
                                                           on=["child_id", "need_id"])
    a["bucket"] = a.prior.clip(upper=5).map(lambda b: "5+" if b >= 5 else str(b))
    want = a.groupby("bucket").agg(assessments=("prior", "size"), nfa=("outcome", lambda o: int((o == "nfa").sum())))
    got = flow.nfa_by_prior(ws, "england").set_index("previous_referrals")
    assert got[["assessments", "nfa"]].to_dict() == want.to_dict()


def test_rereferral_rates_within_sampling_error_of_the_parameters(county):
    ws, truth, _ = county
    rr = truth.parameters["front_door"]["rereferral"]
    for months, key in ((12, "within_12m"), (36, "within_36m")):
        # referrals with a full look-back inside the simulated history
        first = pd.Timestamp(truth.start)
        f = ws.execute(flow.referral_flags(ws, start=first))
        hit = f[f"within_{months}"].mean()
        se = np.sqrt(rr[key] * (1 - rr[key]) / len(f))
        assert abs(hit - rr[key]) < 4 * se, (months, hit, rr[key], len(f))
