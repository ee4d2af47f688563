"""Plan reviews and missing episodes: read from the CIN census and the SSDA903, loaded into ``reviews`` and
``missing`` with the same pseudonyms as the stays; bad dates quarantined with the column named."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
from test_cin import NEED_A, _child, _message, _write

from cscflow import Workspace
from cscflow.sources import cin, load, ssda903


def _csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_cin_review_dates_and_a_bad_one(tmp_path):
    good = _child("C1", NEED_A)
    bad = _child("C2", NEED_A.replace("<CPPreviewDate>2021-08-06</CPPreviewDate>",
                                      "<CPPreviewDate>2021-08-06</CPPreviewDate><CPPreviewDate>2021-11-31</CPPreviewDate>"))
    r = cin.read_file(_write(tmp_path, _message(good + bad)), today=dt.date(2024, 1, 1))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
    assert r.reviews[["source_child_id", "stage"]].values.tolist() == [["C1", "cp_plan"]]
    assert pd.Timestamp(r.reviews["date"].iloc[0]) == pd.Timestamp("2021-08-06")
    assert r.reviews["attrs"].iloc[0] == '{"plan_start": "2021-05-06"}'
    q = r.quarantine.iloc[0]
    assert q["column"] == "ChildProtectionPlans/Reviews/CPPreviewDate" and q["value"] == "2021-11-31"
    assert "not a date" in q["problem"]


def test_903_reviews_and_missing_loaded_and_pseudonymised(tmp_path):
    head = _csv(tmp_path / "header.csv", ["CHILD", "SEX", "DOB", "ETHNIC"], [["K1", "1", "01/02/2008", "WBRI"]])
    eps = _csv(tmp_path / "episodes.csv", ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "DEC", "REC"],
               [["K1", "01/04/2020", "S", "C2", "N1", "U1", "", ""]])
    rev = _csv(tmp_path / "reviews.csv", ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"],
               [["K1", "01/02/2008", "28/04/2020", "PN1"], ["K1", "01/02/2008", "31/02/2020", "PN1"],
                ["K1", "01/02/2008", "", "PN0"]])
    mis = _csv(tmp_path / "missing.csv", ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"],
               [["K1", "01/02/2008", "M", "03/05/2020", "05/05/2020"], ["K1", "01/02/2008", "A", "10/06/2020", ""],
                ["K1", "01/02/2008", "M", "10/07/2020", "01/07/2020"]])
    results = {r.source: r for r in ssda903.read([head, eps, rev, mis])}
    r, m = results["reviews.csv"], results["missing.csv"]
    assert (r.rows_read, r.rows_loaded, len(r.reviews)) == (3, 1, 1)
    assert sorted(r.quarantine["problem"]) == ["review date (REVIEW) is missing", "review date (REVIEW) is not a date"]
    assert (m.rows_read, m.rows_loaded) == (3, 2)
    assert m.quarantine["column"].tolist() == ["MIS_END"] and "ends before it starts" in m.quarantine["problem"].iloc[0]
    assert m.missing["kind"].tolist() == ["missing", "away"] and pd.isna(m.missing["end"].iloc[1])
    with Workspace(tmp_path / "ws", la="886") as ws:
        load(ws, [head, eps, rev, mis])
        load(ws, [rev, mis])  # loaded again: replaced, not duplicated
        reviews, missing, stays = (ws.execute(ws.table(t)) for t in ("reviews", "missing", "episodes"))
        assert len(reviews) == 1 and len(missing) == 2
        assert set(reviews["child_id"]) == set(missing["child_id"]) == set(stays["child_id"])
        assert reviews["child_id"].iloc[0] == ws.pseudonymise(["K1"])[0] != "K1"
        assert reviews[["stage", "code"]].values.tolist() == [["looked_after", "PN1"]]
        assert str(reviews["date"].iloc[0])[:10] == "2020-04-28"
        assert missing["interview_offered"].isna().all()


def test_d2i_fake_reviews_and_missing(shared_data, tmp_path):
    d = shared_data / "d2i-csc-validator-be-903" / "fake_data"
    files = [d / "header.csv", d / "episodes.csv", d / "reviews.csv", d / "missing.csv"]
    results = {r.source: r for r in ssda903.read(files)}
    with open(d / "reviews.csv", newline="", encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    r = results["reviews.csv"]
    assert r.rows_read == len(raw) == 12582
    assert len(r.reviews) + r.rows_quarantined == len(raw)  # every row loaded or quarantined
    assert len(results["missing.csv"].missing) == 43
    with Workspace(tmp_path / "ws", la="886") as ws:
        load(ws, files)
        assert ws.count("reviews") == len(r.reviews) and ws.count("missing") == 43


def test_annex_a_list_8_missing_and_return_interviews(tmp_path):
    from test_annex_a import _write_xlsx

    from cscflow.sources import annex_a

    head = ["Child Unique ID", "Date Started to be Looked After", "Child's Legal Status",
            "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months",
            "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months",
            "Was the child offered a Return Interview after their last missing episode (Y/N)?",
            "Did the child accept a Return Interview after their last missing episode (Y/N)?"]
    rows = [["A1", dt.datetime(2020, 1, 6), "C2: FCO", 3, 1, "a) Yes", "b) No"],
            ["A2", dt.datetime(2020, 2, 3), "C2: FCO", 1, 0, "b) No", None],
            ["A3", dt.datetime(2020, 3, 2), "V2: S20", 0, 2, None, None]]  # absent only: no row
    path = tmp_path / "annex.xlsx"
    _write_xlsx(path, {"List 8": [head, *rows]})
    r = annex_a.read_one(path)
    assert (r.rows_read, r.rows_loaded) == (3, 3) and len(r.episodes) == 3
    m = r.missing.set_index("source_child_id")
    assert m[["interview_offered", "interview_accepted"]].to_dict("index") == {
        "A1": {"interview_offered": True, "interview_accepted": False},
        "A2": {"interview_offered": False, "interview_accepted": None}}
    assert m.loc["A1", "attrs"]["missing_12m"] == 3 and m["start"].isna().all()
    with Workspace(tmp_path / "ws", la="886") as ws:
        load(ws, [path])
        got = ws.execute(ws.table("missing")).sort_values("interview_offered")
        assert got["interview_offered"].tolist() == [False, True] and got["start"].isna().all()
