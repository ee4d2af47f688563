"""A small County for the writer tests.

``cscflow.synth.simulate("tiny", seed)`` is used when the simulation is importable; until
then (and for tests that need a known, hand-controlled shape) :func:`make_county` builds a
County procedurally: every child follows contact -> referral -> ... with the DfE codes the
simulation writes, so the writers see the same kinds of rows.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from cscflow.synth.county import County

ETHNICITIES = ["WBRI"] * 12 + ["WOTH", "MWBC", "AIND", "BAFR", "OOTH", "NOBT", "APKN", "WROM"]
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan",
            "Wright", "Walker", "Evans", "Thomas", "Roberts", "Green", "Hall", "Wood", "Clarke", "Hughes"]
FORENAMES = {"M": ["Oliver", "Jack", "Harry", "Thomas", "William", "James", "Joshua", "Daniel", "Samuel", "Alfie"],
             "F": ["Amelia", "Olivia", "Jessica", "Emily", "Sophie", "Elizabeth", "Charlotte", "Ellie", "Grace", "Mia"]}
SOURCES = ["1A", "1B", "2A", "3A", "3B", "3E", "4", "5A", "6", "6", "6", "8", "10"]
NEEDS = ["N1", "N1", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"]
FACTORS = ["1B", "2B", "3A", "3B", "4B", "6B", "16A", "17A", "18B", "19C", "21", "24A"]
CATEGORIES = ["NEG", "NEG", "EMO", "PHY", "SAB", "MUL"]
TEAMS = ["Front Door", "North District", "South District", "Children in Care"]


def make_county(n_children: int = 60, seed: int = 1, start=dt.date(2014, 4, 1), end=dt.date(2018, 3, 31)) -> County:
    """A County of ``n_children`` with journeys through every stage (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    span = (t1 - t0).days
    kids, stays, procs = [], [], []
    need_no = 0
    case_no = 0

    def day(ts, lo, hi):
        return ts + pd.Timedelta(days=int(rng.integers(lo, hi + 1)))

    def add(cid, need, stage, s, e, outcome, **attrs):
        if s > t1:
            return False
        open_ = e is None or e > t1
        stays.append(dict(child_id=cid, need_id=need, stage=stage, start=s, end=pd.NaT if open_ else e,
                          outcome=None if open_ else outcome, team=TEAMS[int(rng.integers(0, 4))],
                          worker=f"W{int(rng.integers(1, 40)):04d}", attrs=json.dumps(attrs, sort_keys=True)))
        return not open_

    for i in range(n_children):
        cid = f"C{i + 1:07d}"
        sex = "M" if rng.random() < 0.5 else "F"
        age0 = float(rng.uniform(-0.5, 17.5)) if i % 7 else float(rng.uniform(15.5, 17.9))
        birth = (t0 - pd.Timedelta(days=int(age0 * 365.25))).normalize()
        uasc = bool(i % 23 == 5)
        kids.append(dict(child_id=cid, la="886", sex=sex, ethnicity=ETHNICITIES[int(rng.integers(len(ETHNICITIES)))],
                         birth_date=birth, disability=bool(rng.random() < 0.1), uasc=uasc,
                         upn=None if uasc or age0 < 5 else f"A{int(rng.integers(10**10, 10**11))}{'A' if i % 2 else 7}",
                         surname=SURNAMES[int(rng.integers(len(SURNAMES)))],
                         forenames=FORENAMES[sex][int(rng.integers(10))], expected_birth_date=pd.NaT))
        # A contact that goes nowhere, and early help now and then.
        c = day(t0, 0, span)
        add(cid, None, "contact", c, c, "nfa", source=SOURCES[int(rng.integers(len(SOURCES)))])
        if rng.random() < 0.3:
            e = day(t0, 0, span)
            add(cid, None, "early_help", e, day(e, 30, 200), "closed")
        t = day(t0, 0, 300)
        in_care_before = False
        for _ in range(int(rng.integers(1, 4))):
            need_no += 1
            need = f"N{need_no:07d}"
            t = day(t, 10, 400)
            if t > t1:
                break
            add(cid, None if rng.random() < 0.5 else need, "contact", t, t, "referral", source="6")
            r_end = day(t, 0, 3)
            route = "looked_after" if i % 5 == 0 else rng.choice(["assessment", "strategy_discussion", "nfa"],
                                                                     p=[0.6, 0.28, 0.12])
            if not add(cid, need, "referral", t, r_end, "assessment" if route == "looked_after" else route,
                       referral_source=SOURCES[int(rng.integers(len(SOURCES)))], primary_need=NEEDS[int(rng.integers(10))]):
                break
            cur = r_end
            nxt = None
            if route == "nfa":
                t = cur
                continue
            if route in ("assessment", "looked_after"):
                a_end = day(cur, 5, 45)
                out = "cin_plan" if route == "looked_after" else rng.choice(
                    ["cin_plan", "nfa", "step_down_early_help"], p=[0.4, 0.45, 0.15])
                nf = list(rng.choice(FACTORS, size=int(rng.integers(1, 4)), replace=False))
                if not add(cid, need, "assessment", cur, a_end, out, factors=nf):
                    break
                cur, nxt = a_end, out
            else:
                if not add(cid, need, "strategy_discussion", cur, cur, "s47"):
                    break
                s_end = day(cur, 3, 20)
                out = rng.choice(["icpc", "nfa", "cin_plan"], p=[0.6, 0.25, 0.15])
                if not add(cid, need, "s47", cur, s_end, out, icpc_due=str((cur + pd.Timedelta(days=21)).date())):
                    break
                cur, nxt = s_end, out
                if out == "icpc":
                    out = rng.choice(["cp_plan", "nfa"], p=[0.85, 0.15])
                    if not add(cid, need, "icpc", cur, cur, out):
                        break
                    nxt = out
            if nxt == "cin_plan":
                p_end = day(cur, 60, 300)
                out = "looked_after" if route == "looked_after" else "closed"
                if not add(cid, need, "cin_plan", cur, p_end, out):
                    break
                cur, nxt = p_end, out
            elif nxt == "cp_plan":
                cat = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
                p_end = day(cur, 90, 500)
                out = rng.choice(["closed", "looked_after"], p=[0.75, 0.25])
                if not add(cid, need, "cp_plan", cur, p_end, out, category_of_abuse=cat, initial_category=cat):
                    break
                cur, nxt = p_end, out
            if nxt == "looked_after":
                cur = _care(add, rng, cid, need, cur, birth, t1, in_care_before, procs, case_no)
                case_no += 1
                in_care_before = True
                if cur is None:
                    break
            t = cur
    # Care leavers: the oldest children who were in care at 16 leave at 18.
    for k in kids[::7][:5]:
        eighteen = k["birth_date"] + pd.DateOffset(years=18)
        if t0 < eighteen < t1:
            s = max(t0, eighteen - pd.Timedelta(days=400))
            need_no += 1
            need = f"N{need_no:07d}"
            add(k["child_id"], need, "referral", s - pd.Timedelta(days=2), s, "assessment", referral_source="6",
                primary_need="N1")
            add(k["child_id"], need, "looked_after", s, eighteen, "left_care_18", rne="S", legal_status="C2",
                placement="U4", placement_provider="PR1", rec="E8", reason_place_change=None)
            add(k["child_id"], need, "care_leaver", eighteen, None, None, activity="F2", accommodation="U1",
                in_touch="YES")
    # Siblings: the last two care cases become one set of proceedings (one case number, one family).
    if len(procs) >= 2:
        procs[-1]["case_number"] = procs[-2]["case_number"]
        procs[-1]["application_date"] = procs[-2]["application_date"]
    journeys = pd.DataFrame(stays)
    for col in ("start", "end"):
        journeys[col] = pd.to_datetime(journeys[col])
    children = pd.DataFrame(kids)
    proceedings = pd.DataFrame(procs, columns=["proceedings_id", "child_id", "case_number", "court",
                                               "application_date", "interim_order_date", "interim_order",
                                               "final_order_date", "order"])
    events = pd.DataFrame([dict(event_id="E1", date=pd.Timestamp("2016-06-01"), label="Ofsted inspection",
                                kind="inspection")])
    return County(la="886", start=start, end=end, children=children, journeys=journeys, proceedings=proceedings,
                  events=events, parameters={"preset": "writers-test"}, seed=seed)


def _care(add, rng, cid, need, cur, birth, t1, before, procs, case_no):
    """One period of care: 1-3 episodes; may end in adoption, home, SGO or stay open."""
    ls = rng.choice(["V2", "C1", "C2"], p=[0.4, 0.4, 0.2])
    if ls != "V2":
        app = cur - pd.Timedelta(days=3)
        final = app + pd.Timedelta(days=int(rng.integers(150, 330)))
        procs.append(dict(proceedings_id=f"P{case_no + 1:06d}", child_id=cid, case_number=f"ZW16C{50000 + case_no}",
                          court="Medway Family Court", application_date=app, interim_order_date=cur,
                          interim_order="ICO", final_order_date=final if final <= t1 else pd.NaT,
                          order=("placement_order" if birth > cur - pd.DateOffset(years=4) else "care_order")
                          if final <= t1 else None))
    young = birth > cur - pd.DateOffset(years=4)
    n = int(rng.integers(1, 4))
    rne = "S"
    for k in range(n):
        last = k == n - 1
        e = cur + pd.Timedelta(days=int(rng.integers(30, 400)))
        if last:
            if young and ls != "V2":
                place, rec, outcome = "A5", "E11", "permanence"
                ls = "E1"
            else:
                place, rec, outcome = rng.choice(["U6", "U4", "K2"]), rng.choice(["E4A", "E45"]), "returned_home"
                outcome = "permanence" if rec == "E45" else outcome
        else:
            place, rec, outcome = rng.choice(["U6", "U4", "U3", "K2"]), "X1", "looked_after"
        provider = "PR4" if place == "K2" else "PR1"
        if not add(cid, need, "looked_after", cur, e, outcome, rne=rne, legal_status=ls, placement=place,
                   placement_provider=provider, rec=rec, reason_place_change="CARPL" if rec == "X1" else None):
            return None
        cur = e
        rne = "P"
        if ls == "C1":
            ls, rne = "C2", "L"
    return cur


def county_or_simulated(seed: int = 1) -> County:
    """The simulation's tiny preset when it exists, else :func:`make_county`."""
    try:
        from cscflow.synth import simulate  # type: ignore[attr-defined]
    except ImportError:
        return make_county(seed=seed)
    return simulate("tiny", seed=seed)


@pytest.fixture(scope="session")
def county() -> County:
    return county_or_simulated(seed=7)


@pytest.fixture(scope="session")
def hand_county() -> County:
    return make_county(n_children=80, seed=3)


@pytest.fixture(scope="session")
def county_factory():
    """:func:`make_county` itself, for tests that need their own period or size."""
    return make_county
