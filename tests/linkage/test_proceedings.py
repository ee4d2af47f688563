"""Proceedings linkage against the synthetic county's truth; the CLI; the quality report."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from tests.linkage.conftest import accuracy

from cscflow.cli import cli
from cscflow.linkage import LinkageError, link_proceedings
from cscflow.linkage.names import standard_forename, swapped_dob
from cscflow.linkage.proceedings import ambiguous, status


def test_small_county_precision_and_recall(small_county):
    ws, truth, result, _, _ = small_county
    precision, recall = accuracy(result.rows, truth)
    print(f"small county: {len(result.rows)} legal rows, precision {precision:.4f}, recall {recall:.4f}")
    assert precision >= 0.995 and recall >= 0.98
    # every row is accounted for, once
    assert sorted(result.rows["source_row"]) == sorted(truth["row"])
    # children unknown to CSC are never linked
    unknown = truth.loc[truth["true_child"].isna(), "row"]
    assert (result.rows.set_index("source_row").loc[unknown, "status"] != "linked").all()


def test_imperfect_rows_are_linked(small_county):
    """Rows with typos, nicknames, initials, swapped and missing dates of birth still link."""
    _, truth, result, _, _ = small_county
    m = result.rows.merge(truth[["row", "true_child", "imperfections"]], left_on="source_row", right_on="row")
    imperfect = m[m["imperfections"].isin(["typo", "nickname", "initials", "swapped_dob", "surname_change"])]
    assert len(imperfect) >= 15
    assert ((imperfect["status"] == "linked") & (imperfect["child_id"] == imperfect["true_child"])).mean() >= 0.95


def test_parameters_are_estimated_not_set(small_county):
    """EM moved every m probability of the name comparisons away from Splink's defaults."""
    _, _, result, _, _ = small_county
    comps = {c["output_column_name"]: c for c in result.model["comparisons"]}
    sur = [lv for lv in comps["surname"]["comparison_levels"] if not lv.get("is_null_level")]
    exact = sur[0]
    assert exact["tf_adjustment_column"] == "surname"
    assert exact["m_probability"] > 0.5 and exact["u_probability"] < 0.05
    court = comps["court_dates"]["comparison_levels"][0]
    assert court["m_probability"] / court["u_probability"] > 10  # an interim care order near the application


def test_status_and_band():
    p = pd.Series([0.99, 0.96, 0.7, 0.2])
    assert status(p, 0.95, (0.5, 0.95)).tolist() == ["linked", "linked", "review", "unlinked"]
    amb = ambiguous(pd.DataFrame({"match_weight": [20.0, 20.0], "second_weight": [19.5, 10.0]}))
    assert status(pd.Series([0.99, 0.99]), 0.95, (0.5, 0.95), amb).tolist() == ["review", "linked"]


def test_threshold_sensitivity_is_monotone(small_county):
    _, _, result, _, _ = small_county
    counts = [result.with_threshold(t).counts()["linked"] for t in (0.5, 0.95, 0.9999999)]
    assert counts[0] >= counts[1] >= counts[2]


def test_bad_band_refused(small_county):
    ws = small_county[0]
    with pytest.raises(LinkageError, match="review band"):
        link_proceedings(ws, threshold=0.9, review_band=(0.5, 0.95))


def test_names_helpers():
    assert standard_forename("Tom") == standard_forename("Thomas") == "thomas"
    assert swapped_dob("2012-05-07") == "2012-07-05"


def test_cli_writes_links_and_csv_without_identifiers(small_county, tmp_path):
    ws, truth, _, people, out = small_county
    ws.close()
    csv = tmp_path / "links.csv"
    from cscflow import Workspace

    with Workspace(out / "ws", read_only=True) as before:
        n_ids = before.count("identifiers")
    res = CliRunner().invoke(cli, ["link", str(out / "ws"), "--out", str(csv), "--review-band", "0.4,0.95",
                                   "--report", "--people", str(people)])
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(csv)
    assert list(frame.columns) == ["source", "source_row", "proceedings_id", "child_id", "match_probability", "status"]
    assert set(frame["status"]) <= {"linked", "review", "unlinked"}
    precision, recall = accuracy(frame, truth)
    assert precision >= 0.995 and recall >= 0.98
    # no name or date of birth of the person list reaches the terminal or the CSV
    names = pd.read_csv(people, dtype=str)
    text = res.output + csv.read_text()
    for col in ("Surname", "Forename(s)"):
        assert not any(f",{n}," in text or f" {n} " in text for n in names[col].dropna().unique() if len(n) > 3)
    assert "Linked vs not linked" in res.output
    with Workspace(out / "ws", read_only=True) as again:
        assert again.count("links") == int((frame["status"] == "linked").sum())
        assert again.count("identifiers") == n_ids  # the person list loaded again replaces itself
    small_county[0].__init__(out / "ws")  # reopen for the tests that follow


def test_report_finds_the_unlinkable_rows_differences(small_county):
    """The synth's children unknown to CSC come from other LAs' cases (case numbers XX...) and join
    existing cases as half-siblings: the linked-vs-unlinked comparison must find both."""
    from cscflow.linkage.quality import report

    ws, _, result, _, _ = small_county
    rep = report(ws, result)
    cmp = rep["compare"].set_index("characteristic")
    assert cmp.loc["case_prefix", "p_value"] < 0.001
    assert set(rep["rates"]["by"]) == {"application_year", "court", "order"}
    raw = report(ws, result, suppressed=False)["rates"]
    assert (raw["linked"] <= raw["rows"]).all()
    # the report that leaves the machine (CLI, web, board report) hides counts of 1-4 and what gives them back
    shown = rep["rates"]
    assert raw[["linked", "review", "unlinked"]].isin([1, 2, 3, 4]).any().any()  # the county has small cells
    for col in ("linked", "review", "unlinked"):
        small = raw[col].between(1, 4)
        assert (shown.loc[small, col] == "<5").all()
        assert not shown[col].map(lambda v: isinstance(v, int | float) and 1 <= v <= 4).any()
    sens = rep["sensitivity"]
    assert len(sens) == 3 and sens["linked"].is_monotonic_decreasing
    # the share never looked after, recovered from the truth
    assert 0 <= sens["never_looked_after"].iloc[1] <= 1
