"""Clocks of the key practices against independent counts.

* On the synthetic county (tiny preset): the met / breached / open counts of ``assessment-45wd`` and
  ``icpc-15wd`` equal a count made here straight from the CIN census XML the synth wrote (lxml, the
  ``holidays`` package and numpy's business-day count; not cscflow's calendar).
* On hand-made stays: bank holidays, weekends, a stay repeated in two returns, open clocks at the
  as-of date, enquiries ending without an ICPC, the 26-week limit and a never event, each with the
  answer worked out by hand in the comment.
"""

from __future__ import annotations

import datetime as dt
import json

import holidays
import numpy as np
import pandas as pd
import pytest
from lxml import etree

from cscflow import Workspace
from cscflow.practices import evaluate, load_rules
from cscflow.practices.rules import RulesError

SEED = 7


# -- the synthetic county, counted from its XML --------------------------------------------------
@pytest.fixture(scope="module")
def county_ws(tmp_path_factory):
    from cscflow.sources import load
    from cscflow.synth import synthesise

    out = tmp_path_factory.mktemp("county")
    paths = synthesise("tiny", seed=SEED, out_dir=out / "files", formats=["cin"])
    xml = sorted(p for p in paths if p.suffix == ".xml")
    assert len(xml) >= 3  # several census years, so stays repeat across returns
    ws = Workspace(out / "ws", la="886")
    load(ws, xml)
    yield ws, xml
    ws.close()


def _busdays(a: list[str], b: list[str]) -> np.ndarray:
    """Working days after a up to and including b, England bank holidays from the holidays package."""
    hol = np.array(sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(2005, 2030))),
                   dtype="datetime64[D]")
    one = np.timedelta64(1, "D")
    return np.busday_count(np.array(a, dtype="datetime64[D]") + one, np.array(b, dtype="datetime64[D]") + one,
                           holidays=hol)


def _census_children(paths):
    """(LA child id, <Child> element, namespaced tag maker) of every child of every CIN census file, read with
    lxml alone (the independent reference)."""
    for path in paths:
        root = etree.parse(str(path)).getroot()
        ns = root.nsmap.get(None)
        q = (lambda tag, ns=ns: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
        for child in root.iter(q("Child")):
            yield child.findtext(f"{q('ChildIdentifiers')}/{q('LAchildID')}"), child, q


def _xml_clocks(paths) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(assessments, section 47s) of every return: child, start, referral, stop; each (child, start) once,
    the earliest stop any return gives."""
    ass, s47 = [], []
    for cid, child, q in _census_children(paths):
        for det in child.iter(q("CINdetails")):
            ref = det.findtext(q("CINreferralDate"))
            for a in det.iter(q("Assessments")):
                ass.append((cid, a.findtext(q("AssessmentActualStartDate")), ref,
                            a.findtext(q("AssessmentAuthorisationDate"))))
            for s in det.iter(q("Section47")):
                s47.append((cid, s.findtext(q("S47ActualStartDate")), s.findtext(q("S47ActualStartDate")),
                            s.findtext(q("DateOfInitialCPC")), s.findtext(q("ICPCnotRequired"))))
    a = pd.DataFrame(ass, columns=["child", "start", "ref", "stop"])
    s = pd.DataFrame(s47, columns=["child", "start", "ref", "stop", "not_required"])

    def once(f: pd.DataFrame) -> pd.DataFrame:
        f = f.fillna({"stop": "9999-12-31", "not_required": "0"} if "not_required" in f else {"stop": "9999-12-31"})
        how = {"ref": "first", "stop": "min"} | ({"not_required": "max"} if "not_required" in f else {})
        out = f.groupby(["child", "start"], as_index=False).agg(how)
        return out.assign(stop=out["stop"].where(out["stop"] != "9999-12-31"))

    return once(a), once(s)


def _expected(f: pd.DataFrame, limit: int, as_of: str) -> dict[str, int]:
    done = f[f["stop"].notna()]
    wd = _busdays(done["ref"].tolist(), done["stop"].tolist())
    running = f[f["stop"].isna()]
    wd_open = _busdays(running["ref"].tolist(), [as_of] * len(running))
    return {"met": int((wd <= limit).sum()), "breached": int((wd > limit).sum()),
            "open": int((wd_open <= limit).sum()), "overdue": int((wd_open > limit).sum())}


def test_county_counts_equal_the_xml(county_ws):
    ws, xml = county_ws
    clocks = evaluate(ws, ["assessment-45wd", "icpc-15wd"])
    as_of = str(clocks.attrs["as_of"])
    a, s = _xml_clocks(xml)
    # an enquiry that ended without an ICPC (not required in any return) starts no clock
    s = s[s["stop"].notna() | (s["not_required"] != "1")]
    got = {r: clocks[clocks.rule == r]["status"].value_counts().reindex(
        ["met", "breached", "open", "overdue"], fill_value=0).to_dict() for r in ("assessment-45wd", "icpc-15wd")}
    assert got["assessment-45wd"] == _expected(a, 45, as_of)
    assert got["icpc-15wd"] == _expected(s, 15, as_of)
    assert got["assessment-45wd"]["breached"] > 0 and got["icpc-15wd"]["breached"] > 0  # both kinds seen
    # clocks spanning census years (started before 1 April, stopped after) are among them, counted once
    spans = clocks[(clocks["stop"].notna()) & (clocks["start"].dt.year + (clocks["start"].dt.month >= 4)
                                               != clocks["stop"].dt.year + (clocks["stop"].dt.month >= 4))]
    assert len(spans) > 0
    assert not clocks.duplicated(["rule", "child_id", "start"]).any()


def test_county_child_ids_are_pseudonyms(county_ws):
    ws, xml = county_ws
    clocks = evaluate(ws, ["assessment-45wd"])
    a, _ = _xml_clocks(xml)
    assert clocks["child_id"].str.fullmatch(r"[0-9a-f]{20}").all()
    assert not set(clocks["child_id"]) & set(a["child"])


# -- hand-made stays -----------------------------------------------------------------------------
def _stay(child, stage, start, end=None, outcome=None, need=None, team="North", **attrs):
    return {"episode_id": f"{child}-{stage}-{start}-{end}", "child_id": child, "stage": stage,
            "start": pd.Timestamp(start), "end": pd.Timestamp(end) if end else pd.NaT, "outcome": outcome,
            "need_id": need or f"{child}-n", "team": team, "attrs": json.dumps(attrs, sort_keys=True),
            "source": "test", "source_row": 1}


@pytest.fixture
def hand_ws(tmp_path):
    ws = Workspace(tmp_path / "ws", la="886")
    yield ws
    ws.close()


def _s47(child, start, icpc=None, outcome="icpc", team="North"):
    return [_stay(child, "strategy_discussion", start, start, "s47", team=team),
            _stay(child, "s47", start, icpc, outcome if icpc else None, team=team)]


def test_bank_holidays_and_weekends(hand_ws):
    rows = []
    # Fri 20 Dec 2024: 23, 24, 27, 30, 31 Dec, 2, 3, 6-10, 13-15 Jan (25, 26 Dec and 1 Jan skipped):
    # the 15th working day is Wed 15 Jan 2025
    rows += _s47("A", "2024-12-20", "2025-01-15")  # met, 15 working days
    rows += _s47("B", "2024-12-20", "2025-01-16")  # breached, 16
    # Sat 3 Feb 2024: day 1 is Mon 5 Feb; the 15th working day is Fri 23 Feb
    rows += _s47("C", "2024-02-03", "2024-02-24")  # an ICPC on the Saturday after: still 15, met
    rows += _s47("D", "2024-02-03", "2024-02-26")  # Monday: 16, breached
    hand_ws.write("episodes", pd.DataFrame(rows))
    c = evaluate(hand_ws, ["icpc-15wd"], as_of="2025-06-30").set_index("child_id")
    assert c.loc[["A", "B", "C", "D"], "status"].tolist() == ["met", "breached", "met", "breached"]
    assert c.loc[["A", "B", "C", "D"], "working_days"].tolist() == [15, 16, 15, 16]
    assert c.loc["A", "due"] == pd.Timestamp("2025-01-15") and c.loc["C", "due"] == pd.Timestamp("2024-02-23")


def test_repeated_stay_counted_once_and_referral_start(hand_ws):
    # The 2024 return saw the assessment open; the 2025 return saw it authorised: one clock.
    # Referral Wed 6 Mar 2024; counting 7-8 Mar (2), 11-28 Mar (16; Good Friday 29 Mar and Easter
    # Monday 1 Apr skipped), 2-30 Apr (37), 1-3 May (40; 6 May skipped), 7-10 May (44): the 45th
    # working day is Mon 13 May 2024.
    rows = [_stay("E", "referral", "2024-03-06", "2024-03-08", "assessment"),
            _stay("E", "assessment", "2024-03-08", None),
            _stay("E", "assessment", "2024-03-08", "2024-05-13", "nfa"),
            _stay("F", "referral", "2024-03-06", "2024-03-08", "assessment"),
            _stay("F", "assessment", "2024-03-08", "2024-05-14", "nfa")]
    hand_ws.write("episodes", pd.DataFrame(rows))
    c = evaluate(hand_ws, ["assessment-45wd"], as_of="2024-12-31")
    assert len(c) == 2
    c = c.set_index("child_id")
    assert c.loc["E", "start"] == pd.Timestamp("2024-03-06")  # the clock starts at the referral
    assert c.loc["E", "due"] == pd.Timestamp("2024-05-13")
    assert (c.loc["E", "status"], c.loc["F", "status"]) == ("met", "breached")


def test_open_and_overdue_at_the_as_of_date(hand_ws):
    rows = _s47("G", "2024-02-03") + _s47("H", "2024-02-03", "2024-02-22") + _s47("I", "2024-02-05", "2024-02-09",
                                                                                     outcome="nfa")
    hand_ws.write("episodes", pd.DataFrame(rows))
    early = evaluate(hand_ws, ["icpc-15wd"], as_of="2024-02-20").set_index("child_id")
    # I ended without an ICPC: no clock; H's ICPC on the 22nd is not yet known on the 20th
    assert sorted(early.index) == ["G", "H"]
    assert early["status"].tolist() == ["open", "open"]
    assert early.loc["G", "working_days"] == 12  # 5-9, 12-16, 19, 20 Feb
    assert pd.isna(early.loc["H", "stop"])
    late = evaluate(hand_ws, ["icpc-15wd"], as_of="2024-02-26").set_index("child_id")
    assert (late.loc["G", "status"], late.loc["H", "status"]) == ("overdue", "met")
    before = evaluate(hand_ws, ["icpc-15wd"], as_of="2024-02-02")
    assert before.empty  # nothing had started


def test_proceedings_26_weeks_and_never_event(hand_ws):
    hand_ws.write("proceedings", pd.DataFrame({
        "proceedings_id": ["P1", "P2", "P3"], "child_id": ["J", "K", None],
        "application_date": [dt.date(2024, 1, 1)] * 3,
        # 26 weeks after Mon 1 Jan 2024 is Mon 1 Jul 2024
        "final_order_date": [dt.date(2024, 7, 1), dt.date(2024, 7, 2), None]}))
    hand_ws.write("children", pd.DataFrame({"child_id": ["L", "M", "N"], "la": "886",
                                            "birth_month": [dt.date(2010, 5, 1), dt.date(2005, 5, 1),
                                                            dt.date(2010, 5, 1)]}))
    rows = [_stay("L", "looked_after", "2022-01-10", "2022-03-01", placement="H5"),   # aged 11: breach
            _stay("M", "looked_after", "2022-01-10", "2022-03-01", placement="H5"),   # aged 16: lawful
            _stay("N", "looked_after", "2021-01-10", "2021-03-01", placement="P2"),   # before Sep 2021
            _stay("N", "looked_after", "2022-04-10", None, placement="U4")]           # foster care
    hand_ws.write("episodes", pd.DataFrame(rows))
    c = evaluate(hand_ws, ["proceedings-26wk", "under16-unregistered"], as_of="2024-08-01")
    p = c[c.rule == "proceedings-26wk"]
    assert p["status"].tolist() == ["met", "breached", "overdue"]
    assert p["due"].iloc[0] == pd.Timestamp("2024-07-01")
    n = c[c.rule == "under16-unregistered"]
    assert n["child_id"].tolist() == ["L"] and n["status"].tolist() == ["breached"]


def test_unavailable_rules_say_why(hand_ws):
    hand_ws.write("episodes", pd.DataFrame(_s47("A", "2024-12-20", "2025-01-15")))
    c = evaluate(hand_ws)
    why = c.attrs["unavailable"]
    assert "cla-review-20wd" in why and "SSDA903 Reviews" in why["cla-review-20wd"]  # no reviews loaded
    assert "interview" in why["return-home-interview-72h"]
    assert set(c["rule"]) <= {r.id for r in load_rules().values() if r.evaluable}


def test_rules_file_errors(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - id: x\n    description: d\n    source: s\n    kind: clock\n"
                   "    clock: {table: episodes, stage: s47, start: {at: start}, stop: {at: end}}\n"
                   "    limit: {amount: 15, unit: fortnights}\n")
    with pytest.raises(RulesError, match="fortnights"):
        load_rules(bad)
    good = tmp_path / "mine.yaml"
    good.write_text(bad.read_text().replace("fortnights", "working_days").replace("15", "10"))
    assert load_rules(good)["x"].limit.amount == 10
