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


# -- left truncation at the start of each source's window, periods first seen part-way, as_of ----------

def _returns(workspace, rows):
    """Episodes as two SSDA903 returns (2019-20, 2020-21) and an event log, with the loader's ``_sources``."""
    from cscflow.sources.load import ensure_internal

    workspace.write("episodes", pd.DataFrame(rows))
    ensure_internal(workspace)
    now = pd.Timestamp("2024-01-01")
    workspace.write("_sources", pd.DataFrame({
        "source": ["2020/Episodes.csv", "2021/Episodes.csv", "log.csv"], "format": ["903", "903", "events"],
        "load_seq": [1, 2, 3], "loaded_at": [now] * 3, "rows_read": [1] * 3, "rows_loaded": [1] * 3,
        "rows_quarantined": [0] * 3, "rows_repaired": [0] * 3, "report": ["{}"] * 3}))
    return workspace


def _903(child, start, end, rne, year, rec=None, **kw):
    row = _ep(child, "looked_after", start, end, "returned_home" if rec else ("looked_after" if end else None),
              rne=rne, legal_status="C2", rec=rec, return_year=year, **kw)
    row["source"] = f"{year}/Episodes.csv"
    return row


@pytest.fixture
def ws903(workspace):
    rows = [
        # f: began 2018-06-01 (RNE S: its true start), still in care on 1 April 2019, home 2020-01-10
        _903("f", "2018-06-01", "2020-01-10", "S", 2020, rec="E4A"),
        # g: first seen part-way: its first episode in the data (RNE P) began 2019-02-01, home 2019-09-01
        _903("g", "2019-02-01", "2019-09-01", "P", 2020, rec="E4A"),
        # h: began in the window, two episodes, still in care
        _903("h", "2019-05-01", "2020-05-01", "S", 2020),
        _903("h", "2020-05-01", None, "P", 2021),
        # i: began and ended in the window
        _903("i", "2020-06-01", "2020-12-01", "S", 2021, rec="E4A"),
        # j: began 2017-01-01, in care through the whole window
        _903("j", "2017-01-01", None, "S", 2021),
    ]
    return _returns(workspace, rows)


def _days(a, b):
    return float((pd.Timestamp(b) - pd.Timestamp(a)).days)


def test_periods_know_their_window_and_whether_their_start_is_known(ws903):
    p = ready.periods_of_care(ws903).set_index("child_id")
    assert p["origin_known"].to_dict() == {"f": True, "g": False, "h": True, "i": True, "j": True}
    assert set(p["window_start"]) == {pd.Timestamp("2019-04-01")}  # one window for every 903 file
    assert set(p["window_end"]) == {pd.Timestamp("2021-03-31")}
    assert p.loc["f", "start"] == pd.Timestamp("2018-06-01")  # the true start is kept as the origin


def test_default_leaving_care_enters_periods_begun_before_the_returns_late(ws903):
    from lifelines import KaplanMeierFitter

    km = ready.leaving_care(ws903)
    w, end = pd.Timestamp("2019-04-01"), "2021-03-31"
    # by hand, from true starts: f left after 588 days, in view from day 304; h open 700 days; i left
    # after 183; j open 1550 days, in view from day 820; g (start unknown) left out
    dur = [_days("2018-06-01", "2020-01-10"), _days("2019-05-01", end), _days("2020-06-01", "2020-12-01"),
           _days("2017-01-01", end)]
    event = [1, 0, 1, 0]
    entry = [_days("2018-06-01", w) - 1, -1, -1, _days("2017-01-01", w) - 1]
    ref = KaplanMeier().fit(dur, event, entry=entry)
    grid = [0, 183, 200, 588, 700, 1550]
    assert np.allclose(km.survival_at(grid), ref.survival_at(grid), atol=1e-12)
    lf = KaplanMeierFitter().fit(dur, event, entry=np.maximum(entry, 0))  # lifelines: at risk when entry < t
    assert np.allclose(km.survival_at(grid), lf.survival_function_at_times(grid).to_numpy(), atol=1e-12)
    assert km.summary.loc[0, "children"] == 4
    for words in ("2019-04-01 (start of the SSDA903 returns 2019-20 to 2020-21)", "2 periods of care begun before",
                  "1 period first seen part-way", "censored at 2021-03-31"):
        assert words in km.method_, (words, km.method_)
    # the old default: every period dated from its first row, none entering late (g from 2019-02-01)
    old = ready.leaving_care(ws903, truncate=False)
    assert old.summary.loc[0, "children"] == 5 and "length bias" in old.method_
    ci = ready.routes_out_of_care(ws903)
    assert ci.event_table_["at_risk"].iloc[0] == 2  # f and j are not at risk on day 183
    assert ci.at(183.0)["home"] == pytest.approx(1 / 2) and "entered the risk set late" in ci.method_


def test_an_event_log_is_its_own_window(ws903):
    """The event log's window opens on its first date: a period begun before it enters late there."""
    rows = [_ep("k", "referral", "2019-06-01", "2019-06-02", "assessment"),
            _ep("k", "looked_after", "2019-08-01", "2020-06-01", "returned_home", rec="E4A"),
            _ep("m", "looked_after", "2020-02-01", "2020-03-01", "returned_home", rec="E4A"),
            _ep("n", "looked_after", "2019-06-01", "2020-03-01", "returned_home", rec="E4A")]
    for r in rows:
        r["source"] = "log.csv"
    # k's period began in the returns (RNE S) and goes on in the log
    ws903.write("episodes", pd.DataFrame([*rows, _903("k", "2019-01-01", "2019-08-01", "S", 2020)]))
    w = ready.source_windows(ws903).set_index("source")
    assert w.loc["log.csv", "start"] == pd.Timestamp("2019-06-01")
    per = ready.periods_of_care(ws903).set_index("child_id")
    assert per.loc["k", "window_start"] == pd.Timestamp("2019-04-01")  # its earliest source: the returns
    assert per.loc["m", "window_start"] == pd.Timestamp("2019-06-01")
    assert per.loc["k", "start"] == pd.Timestamp("2019-01-01") and per.loc["k", "origin_known"]
    km = ready.leaving_care(ws903)
    # f, h, i, j, k from the returns; m and n from the log; n began on the log's first day (not late)
    assert km.summary.loc[0, "children"] == 7
    # f, j and k entered late: on day 1 only h, i, m and n are at risk
    assert km.at_risk_table([1])["at_risk"].tolist() == [4]




@pytest.mark.parametrize("as_of", ["2019-12-31", "2020-01-10", "2020-06-30", "2020-11-30", "2020-12-01",
                                   "2021-03-31"])
def test_as_of_sees_nothing_after_it(workspace, as_of):
    """Moving as_of earlier: every leaving counted is on or before it, every period counted began by it,
    and the counts equal those of the hand-listed dates."""
    rows = [_903("f", "2018-06-01", "2020-01-10", "S", 2020, rec="E4A"),
            _903("f", "2020-03-01", None, "S", 2020),  # f comes back on 2020-03-01
            _903("h", "2019-05-01", "2020-05-01", "S", 2020), _903("h", "2020-05-01", None, "P", 2021),
            _903("i", "2020-06-01", "2020-12-01", "S", 2021, rec="E4A")]
    ws = _returns(workspace, rows)
    d = pd.Timestamp(as_of)
    starts = {"f1": "2018-06-01", "f2": "2020-03-01", "h": "2019-05-01", "i": "2020-06-01"}
    leaves = {"f1": "2020-01-10", "i": "2020-12-01"}
    km = ready.leaving_care(ws, as_of=as_of)
    began = [k for k, s in starts.items() if pd.Timestamp(s) <= d]
    left = [k for k, e in leaves.items() if pd.Timestamp(e) <= d]
    assert km.summary.loc[0, "children"] == len(began) and km.summary.loc[0, "events"] == len(left)
    if left:
        assert ready.routes_out_of_care(ws, as_of=as_of).event_table_["home"].sum() == len(left)
        back = ready.return_to_care(ws, as_of=as_of)
    else:
        for fn in (ready.routes_out_of_care, ready.return_to_care):
            with pytest.raises(AnalysisError, match="no child left"):
                fn(ws, as_of=as_of)
    # the longest time any counted period could have been seen in care by as_of
    longest = max(_days(starts[k], min(d, pd.Timestamp(leaves.get(k, "2100-01-01")))) for k in began)
    assert km.timeline_.max() <= longest
    if left:
        assert km.event_table_.index[km.event_table_["observed"] > 0].max() <= longest
        assert back.event_table_["observed"].sum() == (1 if d >= pd.Timestamp("2020-03-01") else 0)
        assert back.timeline_.max() <= _days("2020-01-10", d) and f"censored at {d:%Y-%m-%d}" in back.method_


def test_as_of_before_any_period_is_a_clear_error(ws903):
    with pytest.raises(AnalysisError, match="no period of care"):
        ready.leaving_care(ws903, as_of="2010-01-01")
