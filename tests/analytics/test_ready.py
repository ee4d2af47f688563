"""Ready-made analyses on a real DuckDB workspace with hand-built episodes: periods of care,
leaving-care curves, routes, re-referral, referral to CP plan, return to care - each checked
against durations worked out by hand in the test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cscflow.analytics import ready
from cscflow.analytics.survival import KaplanMeier
from cscflow.errors import AnalysisError


def _ep(child, stage, start, end=None, outcome=None, **attrs):
    return {"episode_id": f"{child}-{stage}-{start}", "child_id": child, "stage": stage,
            "start": pd.Timestamp(start), "end": pd.Timestamp(end) if end else pd.NaT, "outcome": outcome,
            "attrs": json.dumps(attrs), "source": "test"}


@pytest.fixture
def ws(workspace):
    rows = [
        # a: one period of two episodes (rne P continues), left home on 2021-03-01 (E4A)
        _ep("a", "looked_after", "2021-01-01", "2021-02-01", "looked_after", rne="S", legal_status="C2"),
        _ep("a", "looked_after", "2021-02-01", "2021-03-01", "returned_home", rne="P", legal_status="C2",
            rec="E4A"),
        # a returns to care on 2021-06-01 and is still in care
        _ep("a", "looked_after", "2021-06-01", None, None, rne="S", legal_status="V2"),
        # b: adopted after 300 days
        _ep("b", "looked_after", "2020-01-01", "2020-10-27", "permanence", rne="S", legal_status="E1", rec="E11"),
        # c: in care before the window; left by SGO on 2021-12-31
        _ep("c", "looked_after", "2019-07-01", "2021-12-31", "permanence", rne="S", legal_status="C2", rec="E45"),
        # referrals: d referred twice (100 days apart), CP plan 40 days after the first
        _ep("d", "referral", "2021-01-01", "2021-01-05", "assessment"),
        _ep("d", "cp_plan", "2021-02-10", "2021-08-01", "closed"),
        _ep("d", "referral", "2021-04-11", "2021-04-12", "nfa"),
        _ep("e", "referral", "2021-05-01", "2021-05-01", "nfa"),
    ]
    workspace.write("episodes", pd.DataFrame(rows))
    workspace.write("children", pd.DataFrame({
        "child_id": list("abcde"), "la": "886", "sex": "F",
        "birth_month": pd.to_datetime(["2020-06-01", "2019-12-01", "2008-01-01", "2010-01-01", "2011-01-01"]).date,
    }))
    workspace.write("proceedings", pd.DataFrame({
        "proceedings_id": ["P1"], "child_id": ["b"], "application_date": [pd.Timestamp("2019-11-01").date()],
    }))
    return workspace


AS_OF = "2022-03-31"


def test_periods_of_care_merge_episodes_until_a_new_start(ws):
    p = ready.periods_of_care(ws)
    assert len(p) == 4
    a = p[p["child_id"] == "a"].reset_index(drop=True)
    assert a.loc[0, "start"] == pd.Timestamp("2021-01-01") and a.loc[0, "end"] == pd.Timestamp("2021-03-01")
    assert a.loc[0, "route"] == "home" and a.loc[0, "legal_status"] == "C2"
    assert pd.isna(a.loc[1, "end"]) and a.loc[1, "route"] is None
    assert p.set_index("child_id").loc["b", "route"] == "adoption"
    assert p.set_index("child_id").loc["c", "route"] == "sgo/cao"


def test_leaving_care_durations_equal_hand_computed(ws):
    km = ready.leaving_care(ws, as_of=AS_OF)
    # by hand: a1 59 days (left), a2 open 2021-06-01..2022-03-31 = 303 days, b 300 (left),
    #          c 2019-07-01..2021-12-31 = 914 (left)
    ref = KaplanMeier().fit([59, 303, 300, 914], [1, 0, 1, 1])
    assert np.allclose(ref.survival_at([0, 59, 300, 303, 914]), km.survival_at([0, 59, 300, 303, 914]))


def test_leaving_care_with_late_entry_and_cohorts(ws):
    km = ready.leaving_care(ws, as_of=AS_OF, window_start="2021-01-01")
    # b left before the window (dropped); c entered the window 550 days into care
    ref = KaplanMeier().fit([59, 303, 914], [1, 0, 1], entry=[-1, -1, 550])
    assert np.allclose(ref.survival_at([59, 303, 914]), km.survival_at([59, 303, 914]))
    kg = ready.leaving_care(ws, by="proceedings", as_of=AS_OF)
    assert kg.fitters_["with proceedings"].event_table_["observed"].sum() == 1  # b
    assert set(ready.leaving_care(ws, by="age_at_entry", as_of=AS_OF).fitters_) == {"under 1", "1-4", "10-15"}
    assert set(ready.leaving_care(ws, by="legal_status", as_of=AS_OF).fitters_) == {"C2", "V2", "E1"}
    with pytest.raises(AnalysisError, match="unknown cohort"):
        ready.leaving_care(ws, by="colour")


def test_routes_out_of_care(ws):
    ci = ready.routes_out_of_care(ws, as_of=AS_OF)
    assert ci.causes_ == ["home", "sgo/cao", "adoption"]
    # at risk 4 throughout: day 59 home (1/4), day 300 adoption (S=3/4 -> 3/4*1/3 = 1/4), day 914 sgo
    assert ci.at(300).to_dict() == pytest.approx({"home": 0.25, "sgo/cao": 0.0, "adoption": 0.25})


def test_rereferral_referral_to_cp_and_return_to_care(ws):
    rr = ready.time_to_rereferral(ws, as_of=AS_OF)
    # d: 100 days to re-referral (event); d's second referral censored at 354; e censored at 334
    ref = KaplanMeier().fit([100, 354, 334], [1, 0, 0])
    assert np.allclose(rr.survival_at([100, 400]), ref.survival_at([100, 400]))
    cp = ready.referral_to(ws, "cp_plan", as_of=AS_OF)
    assert cp.event_table_["observed"].sum() == 1 and 40.0 in cp.timeline_
    back = ready.return_to_care(ws, as_of=AS_OF)
    # a left home 2021-03-01 and came back 2021-06-01: 92 days
    assert back.event_table_.loc[92.0, "observed"] == 1
    assert back.summary.loc[0, "children"] == 1
