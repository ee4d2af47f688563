"""Cumulative incidence by birth cohort and Sankey journeys on a real DuckDB workspace, against
counts worked out by hand in the test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cscflow import reference
from cscflow.analytics.incidence import cohort_size_from_population, cumulative_incidence_by_cohort
from cscflow.analytics.sankey import Sankey, front_door_journeys, legal_journeys


def _ep(child, stage, start, end=None, outcome=None, need=None, **attrs):
    return {"episode_id": f"{child}-{stage}-{start}", "child_id": child, "stage": stage, "need_id": need,
            "start": pd.Timestamp(start), "end": pd.Timestamp(end) if end else pd.NaT, "outcome": outcome,
            "attrs": json.dumps(attrs), "source": "test"}


def test_cohort_size_is_an_eighteenth_of_ons_0_17():
    pop = reference.population()
    kent = pop[(pop["code"] == "886") & (pop["year"] == 2016)]["population_0_17"].item()
    assert cohort_size_from_population("886", 2015) == kent / 18


def test_cumulative_incidence_by_cohort(workspace):
    births = {"a": "2010-03-01", "b": "2010-07-01", "c": "2010-01-01", "d": "2011-05-01", "e": "2010-02-01"}
    workspace.write("children", pd.DataFrame({"child_id": list(births), "la": "886",
                                              "birth_month": pd.to_datetime(list(births.values())).date}))
    workspace.write("episodes", pd.DataFrame([
        _ep("a", "looked_after", "2010-09-01"),  # age 0
        _ep("a", "looked_after", "2014-01-01"),  # later entries do not count
        _ep("b", "looked_after", "2013-01-01"),  # age 2
        _ep("c", "looked_after", "2011-01-01"),  # on the 1st birthday: not before age 1
        _ep("d", "looked_after", "2012-01-01"),
        _ep("e", "referral", "2010-03-01"),       # not care
        _ep("e", "referral", "2017-12-31"),
    ]))
    t = cumulative_incidence_by_cohort(workspace, "care", cohort_sizes={2010: 1000, 2011: 800},
                                       data_start="2010-01-01", as_of="2017-12-31")
    c10 = t[t["birth_year"] == 2010].set_index("age")
    assert c10.loc[1, "children"] == 1 and c10.loc[5, "children"] == 3
    assert c10.loc[1, "incidence"] == pytest.approx(1 / 1000)
    assert np.isnan(c10.loc[10, "incidence"]) and np.isnan(c10.loc[18, "incidence"])  # not covered yet
    c11 = t[t["birth_year"] == 2011].set_index("age")
    assert c11.loc[1, "children"] == 1 and c11.loc[5, "per_1000"] == pytest.approx(1000 / 800)
    r = cumulative_incidence_by_cohort(workspace, "referral", cohort_sizes={2010: 1000, 2011: 800},
                                       data_start="2010-01-01", as_of="2017-12-31")
    assert r[(r["birth_year"] == 2010) & (r["age"] == 1)]["children"].item() == 1


def test_sankey_is_acyclic_with_prefixed_nodes_and_suppresses_small_flows():
    rng = np.random.default_rng(0)
    paths = pd.DataFrame({"s1": rng.choice(["A", "B"], 200), "s2": rng.choice(["A", "B", "C"], 200),
                          "s3": rng.choice(["A", "Z"], 200, p=[0.98, 0.02])})
    s = Sankey(min_flow=5).fit(paths)
    assert all(n.split(": ")[0] in ("s1", "s2", "s3") for n in s.nodes_)
    step = {n: ["s1", "s2", "s3"].index(n.split(": ")[0]) for n in s.nodes_}
    assert all(step[a] + 1 == step[b] for a, b in zip(s.links_["source"], s.links_["target"], strict=True))
    naive = paths.groupby(["s2", "s3"]).size()
    assert s.suppressed_ == naive[naive < 5].sum() + 0
    kept = s.links_[s.links_["source"].str.startswith("s1")]["value"].sum()
    assert kept == 200
    assert len(s.plot().data) == 1


def test_legal_and_front_door_journeys(workspace):
    workspace.write("episodes", pd.DataFrame([
        _ep("a", "looked_after", "2021-01-01", None, None, legal_status="V2"),
        _ep("a", "referral", "2020-12-01", "2020-12-02", "assessment", need="N1"),
        _ep("a", "assessment", "2020-12-02", "2020-12-20", "cin_plan", need="N1"),
        _ep("a", "cin_plan", "2020-12-20", "2021-01-01", "looked_after", need="N1"),
        _ep("a", "looked_after", "2020-12-31", None, None, need="N1"),
        _ep("b", "referral", "2021-02-01", "2021-02-01", "nfa", need="N2"),
    ]))
    workspace.write("proceedings", pd.DataFrame({
        "proceedings_id": ["P1", "P2"], "child_id": ["a", "b"],
        "application_date": pd.to_datetime(["2021-03-01", "2021-03-01"]).date,
        "order": ["sgo", None], "attrs": [json.dumps({"interim_order": "ICO"}), None]}))
    s = legal_journeys(workspace, min_flow=1)
    links = set(map(tuple, s.links_[["source", "target"]].values))
    assert ("Before proceedings: V2", "Interim order: ICO") in links
    assert ("Interim order: ICO", "Final order: sgo") in links
    assert ("Before proceedings: not looked after", "Interim order: none") in links
    f = front_door_journeys(workspace, min_flow=1)
    links = set(map(tuple, f.links_[["source", "target", "value"]].values))
    assert ("Assessment: cin_plan", "Plan: looked_after", 1) in links
    assert ("Referral: nfa", "Assessment: no assessment", 1) in links
