"""The simulation on the `tiny` preset: contract columns, data-model invariants, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cscflow.model.stages import EXITS, STAGES
from cscflow.synth import simulate
from cscflow.synth.county import CHILD_COLUMNS, JOURNEY_COLUMNS, PROCEEDINGS_COLUMNS
from cscflow.synth.params import ParameterError, load_parameters
from cscflow.synth.population import upn_check_letter


@pytest.fixture(scope="module")
def tiny():
    return simulate("tiny", seed=7)


def test_contract_columns(tiny):
    assert set(CHILD_COLUMNS) <= set(tiny.children.columns)
    assert set(JOURNEY_COLUMNS) <= set(tiny.journeys.columns)
    assert set(PROCEEDINGS_COLUMNS) <= set(tiny.proceedings.columns)
    assert 200 <= len(tiny.children) <= 5000
    assert tiny.children["child_id"].is_unique
    assert set(tiny.journeys["child_id"]) <= set(tiny.children["child_id"])


def test_same_seed_same_county_other_seed_differs():
    a, b, c = simulate("tiny", seed=11), simulate("tiny", seed=11), simulate("tiny", seed=12)
    pd.testing.assert_frame_equal(a.journeys, b.journeys)
    pd.testing.assert_frame_equal(a.children, b.children)
    assert not a.journeys.equals(c.journeys)


def test_stays_follow_the_data_model(tiny):
    j = tiny.journeys
    assert set(j["stage"]) <= set(STAGES)
    closed = j["end"].notna()
    assert (j.loc[closed, "end"] >= j.loc[closed, "start"]).all()
    # open stays have no outcome; closed ones have one
    assert j.loc[~closed, "outcome"].isna().all()
    assert j.loc[closed, "outcome"].notna().all()
    assert (j["start"] <= pd.Timestamp(tiny.end)).all()
    # zero-length stages
    for stage in ("contact", "icpc", "strategy_discussion"):
        s = j[(j.stage == stage) & closed]
        assert (s["end"] == s["start"]).all(), stage
    # outcomes are next stages or exits (proceedings: the order made)
    allowed = set(STAGES) | set(EXITS)
    other = j[closed & ~j.stage.isin(["proceedings"])]
    assert set(other["outcome"]) <= allowed, set(other["outcome"]) - allowed
    # contacts and early help outside a referral have no need id; every other stage has one
    need_stages = ~j.stage.isin(["contact", "early_help"])
    assert j.loc[need_stages, "need_id"].notna().all()
    assert j.loc[j.stage == "early_help", "need_id"].isna().all()
    # attrs are JSON objects
    parsed = j["attrs"].map(json.loads)
    assert parsed.map(lambda d: isinstance(d, dict)).all()


def test_referral_outcome_matches_next_stage(tiny):
    """A referral ending in 'assessment' is followed by an assessment of the same need on its end day."""
    j = tiny.journeys
    ref = j[(j.stage == "referral") & (j.outcome == "assessment")]
    ass = j[j.stage == "assessment"][["need_id", "start"]]
    m = ref.merge(ass, on="need_id", suffixes=("", "_a"))
    assert len(m) == len(ref)
    assert (m["start_a"] == m["end"]).all()


def test_looked_after_episodes_are_consecutive_903_episodes(tiny):
    j = tiny.journeys[tiny.journeys.stage == "looked_after"].copy()
    a = pd.DataFrame(list(j["attrs"].map(json.loads)), index=j.index)
    assert a["rne"].isin(["S", "L", "P", "B", "T", "U"]).all()
    assert a["legal_status"].isin(["V2", "V3", "V4", "C1", "C2", "E1", "L1", "L2", "L3", "J1", "J2", "J3"]).all()
    assert a["placement"].str.match(r"^[A-Z]\d$").all()
    j = j.join(a).sort_values(["child_id", "start"])
    nxt_start = j.groupby("child_id")["start"].shift(-1)
    nxt_rne = j.groupby("child_id")["rne"].shift(-1)
    # an episode ending in X1 is followed the same day by a non-S episode; periods never overlap
    x1 = j["rec"] == "X1"
    assert (nxt_start[x1] == j.loc[x1, "end"]).all()
    assert (nxt_rne[x1] != "S").all()
    later = nxt_start.notna() & j["end"].notna()
    assert (nxt_start[later] >= j.loc[later, "end"]).all()
    assert not (nxt_start.notna() & j["end"].isna()).any()


def test_children_are_plausible(tiny):
    c = tiny.children
    assert c["sex"].isin(["M", "F"]).all()
    assert c["surname"].str.len().gt(1).all() and c["forenames"].str.len().gt(1).all()
    upn = c["upn"].dropna()
    assert upn.str.fullmatch(r"[A-Z]\d{12}").all() and len(upn) > 0
    digits = np.array([[int(ch) for ch in u[1:]] for u in upn])
    assert (upn_check_letter(digits) == upn.str[0].to_numpy()).all()
    # every referral of a born child is before 18
    j = tiny.journeys.merge(c[["child_id", "birth_date"]], on="child_id")
    ref = j[j.stage == "referral"]
    age = (ref["start"] - ref["birth_date"]).dt.days / 365.25
    assert (age < 18).all() and (age > -0.5).all()


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ParameterError, match="no preset or parameter file 'nope'"):
        load_parameters("nope")


def test_parameter_file_overrides(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("population: {children_0_17: 1000}\nburn_in_years: 3\n")
    p = load_parameters(path)
    assert p["population"]["children_0_17"] == 1000 and p["front_door"]["rereferral"]["within_12m"] == 0.22
    small = simulate(p, seed=1)
    assert len(small.children) > 0


def test_national_streams_partitioned_parquet(tmp_path):
    """Two small LAs written as la=<code> partitions; each LA's rows carry its own code and population."""
    import pyarrow.dataset as ds

    from cscflow.synth.national import la_populations, synthesise_national

    pops = {la: pop for la, _, pop in la_populations()}
    assert len(pops) >= 149 and pops["886"] > 300_000
    paths = synthesise_national(seed=1, out_dir=tmp_path, las=["201", "420"])
    assert (tmp_path / "events" / "la=201" / "part-0.parquet") in paths
    ev = ds.dataset(tmp_path / "events", partitioning="hive").to_table().to_pandas()
    assert set(ev["la"].astype(str)) == {"201", "420"}
    for la in ("201", "420"):
        kids = pd.read_parquet(tmp_path / "truth" / "children" / f"la={la}" / "part-0.parquet")
        assert len(kids) > 0 and (kids["la"] == la).all()


def test_national_writes_each_las_legal_sheet(tmp_path):
    """Each LA's care-proceedings sheet and its link truth, named apart by the LA's folder; the returns are refused."""
    from cscflow.sources.base import source_name
    from cscflow.synth.national import synthesise_national
    from cscflow.synth.writers import FormatError

    paths = synthesise_national(seed=2, out_dir=tmp_path, las=["857", "201"])
    for la in ("857", "201"):
        sheet = tmp_path / "legal" / f"la={la}" / "legal_proceedings.xlsx"
        links = tmp_path / "truth" / "proceedings_links" / f"la={la}" / "proceedings_links.csv"
        assert sheet in paths and links in paths and source_name(sheet) == f"la={la}/legal_proceedings.xlsx"
        truth = pd.read_csv(links, dtype=str, keep_default_na=False)
        procs = pd.read_parquet(tmp_path / "truth" / "proceedings" / f"la={la}" / "part-0.parquet")
        assert set(truth["proceedings_id"]) - {""} == set(procs["proceedings_id"])
        assert len(pd.read_excel(sheet)) == len(truth)
    assert len(pd.read_csv(tmp_path / "truth" / "proceedings_links" / "la=857" / "proceedings_links.csv")) > 5
    only = synthesise_national(seed=2, out_dir=tmp_path / "events_only", las=["201"], formats=["events"])
    assert not any("legal" in p.parts for p in only)
    with pytest.raises(FormatError, match="per LA"):
        synthesise_national(seed=2, out_dir=tmp_path / "x", las=["201"], formats=["cin"])



def test_birthday_is_the_calendar_day_the_readers_use():
    """The synth's 18th birthday (when care ends at 18 and care-leaver stays begin) is the day
    ``pandas.DateOffset(years=18)`` gives, as the Annex A and SSDA903 readers count it (29 Feb included)."""
    import numpy as np
    import pandas as pd

    from cscflow.synth.sampling import birthday

    days = np.random.default_rng(5).integers(-3000, 20000, 50_000)
    days[:3] = [(pd.Timestamp(d) - pd.Timestamp("1970-01-01")).days for d in ("2004-02-29", "2000-02-29", "1999-12-31")]
    want = (pd.to_datetime(days.astype("datetime64[D]")) + pd.DateOffset(years=18)).values.astype("datetime64[D]")
    assert (birthday(days, 18).astype("datetime64[D]") == want).all()
    assert str(birthday(days[:1], 18).astype("datetime64[D]")[0]) == "2022-02-28"
