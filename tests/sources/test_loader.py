"""The loader: pseudonymise, merge children, de-duplicate stays, need_id, reload, quality report."""

from __future__ import annotations

import pandas as pd
import pytest

from cscflow.sources import load, quality_report
from cscflow.sources.base import ReadResult
from cscflow.sources.load import finalise, ingest


def _result(source, children, episodes, quarantine=None, rows_read=None):
    r = ReadResult(source=source, format="test")
    r.children = pd.DataFrame(children)
    r.episodes = pd.DataFrame(episodes)
    if quarantine:
        r.quarantine = pd.DataFrame(quarantine)
    r.rows_loaded = len(episodes)
    r.rows_read = rows_read if rows_read is not None else r.rows_loaded + r.rows_quarantined
    return r


def _ep(child, stage, start, end=None, row=1, need_key=None, outcome=None):
    return {"source_child_id": child, "stage": stage, "start": start, "end": end, "outcome": outcome,
            "need_key": need_key, "source_row": row, "team": "Front Door", "worker": "W1", "attrs": {"x": 1}}


def _child(cid, sex="M", dob="2015-03-04", la=None):
    return {"source_child_id": cid, "la": la, "sex": sex, "ethnicity": "WBRI", "birth_date": dob,
            "disability": False, "uasc": False, "attrs": None}


@pytest.fixture
def two_sources(workspace):
    a = _result(
        "annex.xlsx",
        [_child("C1"), _child("C2", "F", "2012-01-01")],
        [_ep("C1", "referral", "2020-01-05", row=1), _ep("C1", "assessment", "2020-01-06", "2020-02-01", row=2),
         _ep("C2", "referral", "2020-03-01", row=3), _ep("C1", "contact", "2019-12-01", "2019-12-01", row=4)],
    )
    c = _result(
        "cin_2020.xml",
        [_child(" c1 ", "F", "2015-03-09"), _child("C3", "M", "2010-05-05")],
        [_ep("C1", "referral", "2020-01-05", row=1, need_key="R1"),
         _ep("C1", "s47", "2020-01-10", "2020-01-20", row=2, need_key="R1"),
         _ep("C3", "referral", "2020-06-01", row=3, need_key="R9"),
         _ep("C3", "cin_plan", "2020-07-01", row=4, need_key="R9"),
         _ep("C3", "assessment", "2021-01-01", row=5)],
        quarantine=[{"source_row": 6, "column": "CINreferralDate", "value": "31/02/2020",
                     "problem": "not a date", "hint": "use dd/mm/yyyy"}],
    )
    ra = ingest(workspace, a)
    rc = ingest(workspace, c)
    finalise(workspace)
    return workspace, ra, rc, a, c


def test_children_merged_and_pseudonymised(two_sources):
    ws, ra, rc, a, c = two_sources
    children = ws.table("children").execute()
    assert len(children) == 3  # C1 appears in both sources: one child
    expected = set(ws.pseudonymise(["C1", "C2", "C3"]))
    assert set(children.child_id) == expected
    assert not children.child_id.isin(["C1", "C2", "C3"]).any()
    c1 = children.set_index("child_id").loc[ws.pseudonymise(["C1"])[0]]
    assert c1.sex == "M"  # the first source loaded wins
    assert pd.Timestamp(c1.birth_month) == pd.Timestamp("2015-03-01")


def test_conflicts_reported(two_sources):
    ws, ra, rc, a, c = two_sources
    probs = {p["problem"]: p for p in rc.problems}
    assert probs["conflicting sex"]["count"] == 1
    assert probs["conflicting date of birth"]["count"] == 1
    # examples never carry the dates of birth themselves
    assert "2015-03-09" not in str(probs["conflicting date of birth"]["examples"])
    assert "conflicting sex" not in {p["problem"] for p in ra.problems}  # nothing to conflict with yet


def test_same_stay_from_two_sources_loaded_once(two_sources):
    ws, ra, rc, a, c = two_sources
    ep = ws.table("episodes").execute()
    assert len(ep) == 4 + 5 - 1
    assert rc.duplicate_stays == 1 and rc.stays_written == 4
    c1 = ws.pseudonymise(["C1"])[0]
    refs = ep[(ep.child_id == c1) & (ep.stage == "referral")]
    assert refs.source.tolist() == ["annex.xlsx"]
    assert {p["problem"]: p["count"] for p in rc.problems}["stay already loaded from another source"] == 1


def test_need_ids(two_sources):
    ws, *_ = two_sources
    ep = ws.table("episodes").execute()
    c1, c3 = ws.pseudonymise(["C1", "C3"])
    need = dict(zip(zip(ep.child_id, ep.stage, strict=True), ep.need_id, strict=True))
    # keyed CIN s47 joins the Annex A referral (same child, same referral date) even though the CIN
    # referral itself was dropped as a duplicate
    assert need[(c1, "s47")] == need[(c1, "referral")] == f"{c1}-20200105"
    assert need[(c1, "assessment")] == f"{c1}-20200105"  # unkeyed: latest referral on or before
    assert pd.isna(need[(c1, "contact")])  # before any referral
    assert need[(c3, "cin_plan")] == f"{c3}-20200601"
    assert need[(c3, "assessment")] == f"{c3}-20200601"


def test_reload_replaces(two_sources):
    ws, ra, rc, a, c = two_sources
    before = {t: ws.count(t) for t in ("episodes", "identifiers", "quarantine", "children")}
    ingest(ws, c)
    finalise(ws)
    after = {t: ws.count(t) for t in ("episodes", "identifiers", "quarantine", "children")}
    assert before == after
    rep = quality_report(ws)
    assert [s["file"] for s in rep["sources"]] == ["annex.xlsx", "cin_2020.xml"]


def test_quality_report_shape_and_accounting(two_sources):
    ws, *_ = two_sources
    rep = quality_report(ws)
    for s in rep["sources"]:
        assert set(s) >= {"file", "format", "rows_read", "rows_loaded", "rows_quarantined", "rows_repaired",
                          "problems"}
        assert s["rows_read"] == s["rows_loaded"] + s["rows_quarantined"]
        for p in s["problems"]:
            assert set(p) == {"problem", "count", "examples"}
    cin = rep["sources"][1]
    assert cin["rows_quarantined"] == 1
    nd = [p for p in cin["problems"] if p["problem"] == "not a date"][0]
    assert nd["examples"][0]["row"] == 6 and nd["examples"][0]["value"] == "31/02/2020"
    # C1 has a S47 on 2020-01-10 after its referral: fine; C3 has none
    assert "s47 before referral" not in {p["problem"] for p in rep["sequences"]}


def test_worker_hashed(two_sources):
    ws, *_ = two_sources
    ep = ws.table("episodes").execute()
    assert not ep.worker.isin(["W1"]).any() and ep.worker.nunique() == 1


def test_unaccounted_rows_are_reported(workspace):
    r = _result("x.csv", [], [_ep("C1", "referral", "2020-01-01")], rows_read=5)
    rep = ingest(workspace, r)
    assert not rep.accounted
    assert "rows not accounted for" in {p["problem"] for p in rep.problems}


def test_later_referral_reattaches_earlier_loaded_stays(workspace):
    a = _result("a.csv", [], [_ep("C9", "assessment", "2021-05-02", row=1), _ep("C9", "contact", "2021-04-01", row=2)])
    ingest(workspace, a)
    ep = workspace.table("episodes").execute()
    assert ep.need_id.isna().all()  # no referral known yet
    b = _result("b.csv", [], [_ep("C9", "referral", "2021-05-01", row=1)])
    ingest(workspace, b)
    ep = workspace.table("episodes").execute().set_index("stage")
    c9 = workspace.pseudonymise(["C9"])[0]
    assert ep.loc["assessment", "need_id"] == ep.loc["referral", "need_id"] == f"{c9}-20210501"
    assert pd.isna(ep.loc["contact", "need_id"])  # before the referral


# ------------------------------------------------------------------ round trips through cscflow synth


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from cscflow.synth.run import synthesise

    out = tmp_path_factory.mktemp("tiny")
    synthesise("tiny", seed=3, out_dir=out, formats=["annex-a", "events"])
    truth = pd.read_parquet(out / "truth" / "journeys.parquet")
    return out, truth


def test_events_round_trip_to_truth(tiny, workspace):
    out, truth = tiny
    (rep,) = load(workspace, [out / "events.parquet"])
    assert rep.accounted and rep.rows_read == len(truth) and rep.rows_quarantined == 0
    ep = workspace.table("episodes").execute()
    pseudo = dict(zip(truth.child_id.unique(), workspace.pseudonymise(truth.child_id.unique()), strict=True))
    want = sorted(zip(truth.child_id.map(pseudo), truth.stage, pd.to_datetime(truth.start), strict=True))
    got = sorted(zip(ep.child_id, ep.stage, ep.start, strict=True))
    assert got == want
    ends = sorted(pd.to_datetime(truth.end).dropna())
    assert sorted(ep.end.dropna()) == ends
    assert workspace.count("children") == truth.child_id.nunique()
    # stays of one true episode of need share one need_id (the need of a referral-led episode)
    ep = ep.merge(truth.assign(child_id=truth.child_id.map(pseudo), start=pd.to_datetime(truth.start))
                  [["child_id", "stage", "start", "need_id"]].rename(columns={"need_id": "true_need"}),
                  on=["child_id", "stage", "start"])
    led = ep[ep.true_need.notna() & ep.need_id.notna()]
    assert (led.groupby("true_need").need_id.nunique() == 1).all()


def test_annex_a_round_trip_to_truth(tiny, workspace):
    out, truth = tiny
    (rep,) = load(workspace, [out / "annex_a.xlsx"])
    assert rep.accounted
    # two contacts of one child on one day from one source are indistinguishable rows in List 1
    assert {p["problem"] for p in rep.problems if p["examples"] and "row" in p["examples"][0]} <= {"duplicate row"}
    ep = workspace.table("episodes").execute()
    pseudo = dict(zip(truth.child_id.unique(), workspace.pseudonymise(truth.child_id.unique()), strict=True))
    truth = truth.assign(child_id=truth.child_id.map(pseudo), day=pd.to_datetime(truth.start).dt.normalize())
    for stage in ("contact", "referral"):  # Lists 1 and 3: every one that started in the 12-month window
        got = ep[ep.stage == stage]
        lo, hi = got.start.min(), got.start.max()
        t = truth[(truth.stage == stage) & truth.day.between(lo, hi)]
        assert set(zip(got.child_id, got.start.dt.normalize(), strict=True)) == set(
            zip(t.child_id, t.day, strict=True)), stage
    cp = ep[ep.stage == "cp_plan"]
    t = truth[truth.stage == "cp_plan"]
    assert set(zip(cp.child_id, cp.start.dt.normalize(), strict=True)) <= set(zip(t.child_id, t.day, strict=True))


# ------------------------------------------------------------------ need_id and duplicates against a naive reference


def _naive_needs(stays):
    """need day of each kept stay: the latest referral day of the child on or before it (plain Python)."""
    refs = {}
    for child, stage, day in stays:
        if stage == "referral":
            refs.setdefault(child, []).append(day)
    out = []
    for child, _stage, day in stays:
        before = [d for d in refs.get(child, []) if d <= day]
        out.append(max(before) if before else None)
    return out


def test_need_ids_and_duplicates_match_naive_reference(workspace, tmp_path):
    import numpy as np

    rng = np.random.default_rng(7)
    stages = ["contact", "referral", "assessment", "s47", "cin_plan"]
    files = []
    for k in range(3):  # three event logs, overlapping children and days, loaded as two loads
        n = 400
        frame = pd.DataFrame({
            "child_id": [f"K{c}" for c in rng.integers(0, 40, n)],
            "stage": rng.choice(stages, n),
            "start": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        }).drop_duplicates()
        path = tmp_path / f"log{k}.csv"
        frame.to_csv(path, index=False)
        files.append((path, frame))
    load(workspace, [files[0][0]])
    reports = load(workspace, [files[1][0], files[2][0]])
    # reference: stays kept in load order, the first source keeping a (child, stage, day)
    seen, kept, dups = set(), [], {}
    for path, frame in files:
        dups[path.name] = 0
        for r in frame.itertuples():
            key = (r.child_id, r.stage, r.start.normalize())
            if key in seen:
                dups[path.name] += 1
                continue
            seen.add(key)
            kept.append(key)
    assert {r.file: r.duplicate_stays for r in reports} == {f: dups[f] for f in ("log1.csv", "log2.csv")}
    want = sorted((workspace.pseudonymise([c])[0], s, d, n) for (c, s, d), n in zip(kept, _naive_needs(kept),
                                                                                       strict=True))
    ep = workspace.table("episodes").execute()
    got = sorted((c, s, pd.Timestamp(d), None if pd.isna(n) else pd.Timestamp(n[-8:]))
                 for c, s, d, n in zip(ep.child_id, ep.stage, ep.start, ep.need_id, strict=True))
    assert got == want
    # reloading the first file moves it last: nothing is duplicated, the same stays stay loaded
    load(workspace, [files[0][0]])
    assert workspace.count("episodes") == len(kept)


def test_reload_rebuilds_only_changed_children_same_as_full_rebuild(workspace):
    from cscflow.sources.load.children import rebuild_children

    a = _result("a.csv", [_child("C1", "M"), _child("C4", "F")], [_ep("C1", "referral", "2020-01-01")])
    b = _result("b.csv", [_child("C1", "F"), _child("C2", "M", la="886")], [_ep("C2", "referral", "2020-02-01")])
    ingest(workspace, a)
    ingest(workspace, b)
    finalise(workspace)
    c1 = workspace.pseudonymise(["C1"])[0]
    kids = workspace.table("children").execute().set_index("child_id")
    assert kids.loc[c1, "sex"] == "M" and len(kids) == 3
    a2 = _result("a.csv", [_child("C1", "M")], [_ep("C1", "referral", "2020-01-01")])  # C4 gone, a now last
    ingest(workspace, a2)
    finalise(workspace)
    got = workspace.table("children").execute().sort_values("child_id").reset_index(drop=True)
    assert got.set_index("child_id").loc[c1, "sex"] == "F"  # b.csv now ranks first
    assert workspace.pseudonymise(["C4"])[0] not in set(got.child_id)
    rebuild_children(workspace)  # no dirty list: a full rebuild from every source
    full = workspace.table("children").execute().sort_values("child_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, full)


def test_latest_referral_days_matches_naive():
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from cscflow.sources.load.stays import latest_referral_days

    rows = st.lists(st.tuples(st.integers(0, 4), st.integers(-1, 30), st.booleans()), max_size=60)

    @settings(max_examples=200, deadline=None)
    @given(rows)
    def check(rs):
        child = np.array([r[0] for r in rs], dtype=np.int64)
        day = np.array([r[1] for r in rs], dtype=np.int64)
        ref = np.array([r[2] for r in rs], dtype=bool)
        got = latest_referral_days(child, day, ref).tolist()
        want = []
        for c, d, _ in rs:
            before = [d2 for c2, d2, f in rs if c2 == c and f and d2 >= 0 and d >= 0 and d2 <= d]
            want.append(max(before) if before else -1)
        assert got == want

    check()


def _ingest(workspace, results, together: bool) -> None:
    """``results`` loaded together (one ingest_many) or one after the other, then finalised."""
    from cscflow.sources.load import ingest_many

    if together:
        ingest_many(workspace, results)
    else:
        for r in results:
            ingest(workspace, r)
    finalise(workspace)


@pytest.mark.parametrize("together", [True, False])
def test_a_kept_copy_without_an_end_takes_the_end_another_copy_knows(workspace, together):
    """An earlier census holds a referral open at 31 March that the next census closes; an Annex A s47 whose
    ICPC was not needed ends, unknown, the day it starts: the kept copy takes the end (and outcome) another copy
    knows, whether the files are loaded together or one after the other, and says where the end came from."""
    old = _result("cin_2015.xml", [_child("C1")],
                  [_ep("C1", "referral", "2015-02-01", row=1),
                   {**_ep("C1", "s47", "2015-02-03", "2015-02-03", row=2), "attrs": {"end_unknown": True}},
                   _ep("C1", "cp_plan", "2015-03-01", "2015-06-01", row=3, outcome="ended")])
    new = _result("cin_2016.xml", [_child("C1")],
                  [_ep("C1", "referral", "2015-02-01", "2015-09-30", row=1, outcome="closed"),
                   _ep("C1", "s47", "2015-02-03", "2015-02-20", row=2),
                   _ep("C1", "cp_plan", "2015-03-01", "2015-07-01", row=3)])  # both known: the first kept
    _ingest(workspace, [old, new], together)
    ep = workspace.table("episodes").execute().set_index("stage")
    assert len(ep) == 3 and set(ep.source) == {"cin_2015.xml"}
    assert ep.loc["referral", "end"] == pd.Timestamp("2015-09-30") and ep.loc["referral", "outcome"] == "closed"
    assert ep.loc["s47", "end"] == pd.Timestamp("2015-02-20")
    assert ep.loc["cp_plan", "end"] == pd.Timestamp("2015-06-01")
    import json

    assert json.loads(ep.loc["s47", "attrs"])["end_from"] == "cin_2016.xml"
    assert "end_unknown" not in ep.loc["s47", "attrs"]
    assert json.loads(ep.loc["referral", "attrs"])["end_from"] == "cin_2016.xml"
    assert "end_from" not in ep.loc["cp_plan", "attrs"]


def test_the_statutory_return_keeps_its_copy_whatever_the_order_given(workspace):
    """Annex A and an event log listed before the SSDA903 return and the CIN census: the return made for the stage
    keeps its copy of a stay (its codes with it), and the reports come back in the order given."""
    from cscflow.sources.load import ingest_many

    annex = _result("annex_a.xlsx", [_child("C1")], [_ep("C1", "s47", "2016-05-02", "2016-05-02", row=1),
                                                     _ep("C1", "looked_after", "2016-07-01", row=2)])
    annex.format = "annex-a"
    log = _result("events.csv", [_child("C1")], [_ep("C1", "looked_after", "2016-07-01", "2017-01-01", row=1)])
    log.format = "events"
    cin = _result("cin_2017.xml", [_child("C1")], [_ep("C1", "s47", "2016-05-02", "2016-05-30", row=1)])
    cin.format = "cin"
    ssda = _result("Episodes.csv", [_child("C1")], [_ep("C1", "looked_after", "2016-07-01", "2017-02-01", row=1)])
    ssda.format = "903"
    reports = ingest_many(workspace, [annex, log, cin, ssda])
    assert [r.file for r in reports] == ["annex_a.xlsx", "events.csv", "cin_2017.xml", "Episodes.csv"]
    ep = workspace.table("episodes").execute().set_index("stage")
    assert ep.loc["s47", "source"] == "cin_2017.xml" and ep.loc["s47", "end"] == pd.Timestamp("2016-05-30")
    assert ep.loc["looked_after", "source"] == "Episodes.csv"
    assert ep.loc["looked_after", "end"] == pd.Timestamp("2017-02-01")


@pytest.mark.parametrize("together", [True, False])
def test_the_kept_copy_takes_the_team_another_copy_names(workspace, together):
    """The CIN census names no team; the case system's event log does. The census keeps its copy of the
    assessment and takes the log's team and worker (team funnels read them), loaded together or one after the
    other; a team the kept copy names is kept."""
    cin = _result("cin_2017.xml", [_child("C1")],
                  [{**_ep("C1", "assessment", "2016-05-02", "2016-06-01", row=1), "team": None, "worker": None},
                   {**_ep("C1", "referral", "2016-05-01", "2016-05-02", row=2), "team": "Census team"}])
    cin.format = "cin"
    log = _result("events.csv", [_child("C1")],
                  [{**_ep("C1", "assessment", "2016-05-02", "2016-06-03", row=1), "team": "North", "worker": "W9"},
                   {**_ep("C1", "referral", "2016-05-01", "2016-05-02", row=2), "team": "MASH"}])
    log.format = "events"
    _ingest(workspace, [log, cin] if together else [cin, log], together)
    ep = workspace.table("episodes").execute().set_index("stage")
    assert set(ep.source) == {"cin_2017.xml"} and len(ep) == 2
    assert ep.loc["assessment", "team"] == "North" and ep.loc["assessment", "worker"] not in (None, "W9")
    assert ep.loc["assessment", "end"] == pd.Timestamp("2016-06-01")
    assert ep.loc["referral", "team"] == "Census team"
