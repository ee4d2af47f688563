"""Round trips: the synthetic county written as CIN census and SSDA903 files reads back to its truth.

The returns lose some facts by design (CIN plans before the 2022 schema, strategy discussions
without an S47, the S47 end date), so the checks compare what each format can carry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cscflow.sources import cin, ssda903

synth = pytest.importorskip("cscflow.synth")


@pytest.fixture(scope="module")
def county_files(tmp_path_factory):
    from cscflow.synth.writers import cin as write_cin
    from cscflow.synth.writers import ssda903 as write_903
    from cscflow.synth.writers import ssda903_xml as write_903_xml

    county = synth.simulate("tiny", seed=1)
    out = tmp_path_factory.mktemp("county")
    files = {
        "cin": write_cin.write(county, out, np.random.default_rng(0)),
        "903": write_903.write(county, out, np.random.default_rng(0)),
        "903-xml": write_903_xml.write(county, out, np.random.default_rng(0)),
    }
    return county, files


def _matched(truth: pd.DataFrame, read: pd.DataFrame, stage: str) -> pd.DataFrame:
    t = truth.loc[truth["stage"] == stage]
    r = read.loc[read["stage"] == stage]
    return t.merge(r, left_on=["child_id", "start"], right_on=["source_child_id", "start"], suffixes=("_t", "_r"))


def test_cin_census_reads_back_to_the_truth(county_files):
    county, files = county_files
    results = cin.read(files["cin"])
    for r in results:
        r.check_accounted()
        assert r.rows_quarantined == 0
    eps = pd.concat([r.episodes for r in results], ignore_index=True)
    truth = county.journeys
    # each stay is read once across the census years
    assert not eps.duplicated(["source_child_id", "stage", "start"]).any()
    for stage in ("referral", "assessment", "s47", "icpc", "cp_plan"):
        both = _matched(truth, eps, stage)
        read_n = (eps["stage"] == stage).sum()
        assert len(both) == read_n, stage  # every stay read is a true stay
    for stage in ("assessment", "icpc", "cp_plan", "strategy_discussion"):
        both = _matched(truth, eps, stage)
        same_end = both["end_t"].fillna(pd.Timestamp(0)).eq(both["end_r"].fillna(pd.Timestamp(0)))
        assert same_end.all(), stage
    referrals = _matched(truth, eps, "referral")
    differ = referrals.loc[referrals["outcome_t"].ne(referrals["outcome_r"])]
    # a referral's outcome differs only when its onward step is not in any census file
    read_keys = set(zip(eps["source_child_id"], eps["stage"], eps["start"], strict=True))
    onward = differ.loc[differ["outcome_t"].isin(["assessment", "strategy_discussion"])]
    assert not any((c, s, e) in read_keys for c, s, e in zip(
        onward["child_id"], onward["outcome_t"], onward["end_t"], strict=True))
    assert len(differ) < 0.2 * len(referrals)
    kids = pd.concat([r.children for r in results]).set_index("source_child_id")
    true_kids = county.children.set_index("child_id").loc[kids.index]
    born = kids["birth_date"].notna()
    assert (kids.loc[born, "sex"] == true_kids.loc[born, "sex"]).all()
    assert (kids["ethnicity"] == true_kids["ethnicity"]).all()
    assert (pd.to_datetime(kids.loc[born, "birth_date"]) == true_kids.loc[born, "birth_date"]).all()
    assert (kids["disability"].astype(bool) == true_kids["disability"].astype(bool)).all()


@pytest.mark.parametrize("fmt", ["903", "903-xml"])
def test_ssda903_reads_back_to_the_truth(county_files, fmt):
    county, files = county_files
    paths = [p for p in files[fmt] if p.suffix in (".csv", ".xml")]
    results = ssda903.read(paths)
    for r in results:
        r.check_accounted()
        assert r.rows_quarantined == 0
    eps = pd.concat([r.episodes for r in results], ignore_index=True)
    stays = eps.loc[eps["stage"] == "looked_after"]
    assert not stays.duplicated(["source_child_id", "start"]).any()
    both = _matched(county.journeys, eps, "looked_after")
    assert len(both) == len(stays)  # every stay read is a true stay
    assert both["end_t"].fillna(pd.Timestamp(0)).eq(both["end_r"].fillna(pd.Timestamp(0))).all()
    kids = pd.concat([r.children for r in results]).set_index("source_child_id")
    true_kids = county.children.set_index("child_id").loc[kids.index]
    known = kids["sex"].isin(["M", "F"])
    assert known.mean() > 0.9
    assert (kids.loc[known, "sex"] == true_kids.loc[known, "sex"]).all()
    dated = kids["birth_date"].notna()
    assert (pd.to_datetime(kids.loc[dated, "birth_date"]) == true_kids.loc[dated, "birth_date"]).all()
