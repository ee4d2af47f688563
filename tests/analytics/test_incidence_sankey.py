"""Cumulative incidence by birth cohort and Sankey journeys on a real DuckDB workspace, against
counts worked out by hand in the test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cscflow import reference
from cscflow.analytics.incidence import (
    APPROXIMATION,
    cohort_size_from_population,
    cumulative_incidence_by_cohort,
)
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
    # the states by their names on the map, not their ids (cin_plan, nfa)
    assert ("Assessment: CIN plan", "Plan: Looked after", 1) in links
    assert ("Referral: No further action", "Assessment: no assessment", 1) in links


# -- denominators: a population file, and the approximation stated -------------------------------------

def _incidence_ws(workspace):
    births = {"a": "2010-03-01", "b": "2010-07-01", "c": "2011-01-01", "d": "2011-05-01"}
    workspace.write("children", pd.DataFrame({"child_id": list(births), "la": "886",
                                              "birth_month": pd.to_datetime(list(births.values())).date}))
    workspace.write("episodes", pd.DataFrame([
        _ep("a", "looked_after", "2010-09-01"),  # age 0
        _ep("b", "looked_after", "2013-01-01"),  # age 2
        _ep("c", "looked_after", "2011-06-01"),  # age 0
        _ep("d", "looked_after", "2016-09-01"),  # age 5: after the as_of below, not seen
        _ep("d", "referral", "2017-12-31"),
    ]))
    return workspace


def test_incidence_with_a_births_file_equals_a_hand_computation(workspace, tmp_path):
    ws = _incidence_ws(workspace)
    f = tmp_path / "births.csv"
    f.write_text("la,birth_year,births\n886,2010,1000\n886,2011,800\n999,2010,5\n")
    t = cumulative_incidence_by_cohort(ws, "care", data_start="2010-01-01", as_of="2016-06-30", population=f)
    c = t.set_index(["birth_year", "age"])
    assert c.loc[(2010, 1), "incidence"] == pytest.approx(1 / 1000)  # a
    assert c.loc[(2010, 5), "incidence"] == pytest.approx(2 / 1000)  # a, b
    assert c.loc[(2011, 1), "incidence"] == pytest.approx(1 / 800)  # c
    assert c.loc[(2011, 1), "cohort_size"] == 800 and c.loc[(2010, 1), "denominator"] == "live births"
    assert np.isnan(c.loc[(2011, 5), "incidence"])  # 2016-12-31 is after as_of: not covered
    # cohorts the file does not give fall back to the approximation, and say so
    assert c.loc[(2012, 1), "denominator"] == APPROXIMATION
    assert c.loc[(2012, 1), "cohort_size"] == cohort_size_from_population("886", 2012)
    method = t.attrs["method"]
    assert "live births from births.csv (cohorts 2010-2011)" in method and "-17% to +9%" in method


def test_incidence_with_single_year_of_age_equals_a_hand_computation(workspace, tmp_path):
    ws = _incidence_ws(workspace)
    f = tmp_path / "pop.csv"
    # born in 2010: half aged 0 and half aged 1 at 30 June 2011 -> (900 + 1100) / 2 = 1000
    f.write_text("LA,Year,Age,Population\n886,2011,0,900\n886,2011,1,\"1,100\"\n886,2012,0,700\n886,2012,1,900\n"
                 "886,2012,2,5000\n")
    t = cumulative_incidence_by_cohort(ws, "care", data_start="2010-01-01", as_of="2016-06-30", population=f)
    c = t.set_index(["birth_year", "age"])
    assert c.loc[(2010, 1), "cohort_size"] == 1000 and c.loc[(2011, 1), "cohort_size"] == 800
    assert c.loc[(2010, 5), "per_1000"] == pytest.approx(2.0)
    assert c.loc[(2010, 1), "denominator"] == "ONS-style single year of age"
    assert "(P(y+1, 0) + P(y+1, 1)) / 2" in t.attrs["method"]


def test_the_approximation_is_stated_on_its_output(workspace):
    from cscflow.analytics import run

    ws = _incidence_ws(workspace)
    t = cumulative_incidence_by_cohort(ws, "care", data_start="2010-01-01", as_of="2016-06-30")
    assert (t["denominator"] == APPROXIMATION).all() and "-17% to +9%" in APPROXIMATION
    assert "one eighteenth" in t.attrs["method"] and "about -17% to +9% nationally" in t.attrs["method"]
    r = run(ws, "incidence", event="care", as_of="2016-06-30")
    notes = [a.text for a in r.figure.layout.annotations]
    assert any("approximation" in n and "-17% to +9%" in n for n in notes)
    assert (r.export()["denominator"] == APPROXIMATION).all()
    # as_of restricts what is seen: the cohort's cells past it are missing, not understated
    assert r.table.set_index(["birth_year", "age"]).loc[(2011, 5), "incidence"] != r.table.loc[0, "incidence"]
    assert np.isnan(r.table.set_index(["birth_year", "age"]).loc[(2011, 5), "incidence"])


@pytest.mark.parametrize("text, words", [
    ("la,year,age,population\n886,2011,0,900\n886,2011,x,5\n", ["pop.csv", "data row 2", "'age'", "'x'"]),
    ("la,year,age,population\n886,2011,0,-3\n", ["data row 1", "'population'", "'-3'"]),
    ("la,birth_year,births\n886,2010.5,3\n", ["data row 1", "'birth_year'", "'2010.5'"]),
    ("la,year,births\n886,2010,3\n", ["has columns la, year, births", "birth_year"]),
    ("la,birth_year,births\n886,2010,3\n886,2010,4\n", ["data row 2", "second row", "birth_year 2010"]),
    ("la,birth_year,births\n999,2010,3\n", ["no rows for LA 886"]),
])
def test_bad_population_files_are_named_by_row_column_and_value(workspace, tmp_path, text, words):
    from cscflow.errors import SourceError

    ws = _incidence_ws(workspace)
    f = tmp_path / "pop.csv"
    f.write_text(text)
    with pytest.raises(SourceError) as err:
        cumulative_incidence_by_cohort(ws, "care", data_start="2010-01-01", as_of="2016-06-30", population=f)
    for w in words:
        assert w in str(err.value), (w, str(err.value))
    with pytest.raises(SourceError, match="not a .csv file"):
        cumulative_incidence_by_cohort(ws, "care", population=tmp_path / "pop")


def test_population_file_of_several_las_needs_the_workspace_la(tmp_path):
    from cscflow.analytics.incidence import read_population
    from cscflow.errors import SourceError

    f = tmp_path / "pop.csv"
    f.write_text("la,birth_year,births\n886,2010,3\n999,2010,4\n")
    with pytest.raises(SourceError, match="several LAs"):
        read_population(f)
    assert read_population(f, "999")["births"].tolist() == [4.0]


def test_cli_population_option(workspace, tmp_path):
    from click.testing import CliRunner

    from cscflow.cli import cli

    ws = _incidence_ws(workspace)
    path = str(ws.path)
    ws.close()
    f = tmp_path / "births.csv"
    f.write_text("la,birth_year,births\n886,2010,1000\n886,2011,800\n")
    out = tmp_path / "inc.csv"
    r = CliRunner().invoke(cli, ["stats", path, "incidence", "--event", "care", "--as-of", "2016-06-30",
                                 "--population", str(f), "--out", str(out), "--no-suppress"])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out, comment="#")  # the file's header lines carry the method
    assert "live births from births.csv" in out.read_text()
    # the data start is read from the data (September 2010), so the first whole cohort is 2011's
    assert got.birth_year.min() == 2011
    row = got[(got.birth_year == 2011) & (got.age == 1)].iloc[0]
    assert row.cohort_size == 800 and row.incidence == pytest.approx(1 / 800) and row.denominator == "live births"
    bad = tmp_path / "bad.csv"
    bad.write_text("la,birth_year,births\n886,twenty,3\n")
    r = CliRunner().invoke(cli, ["stats", path, "incidence", "--population", str(bad)])
    assert r.exit_code != 0 and "data row 1" in r.output and "'twenty'" in r.output
