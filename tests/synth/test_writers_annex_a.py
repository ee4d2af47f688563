"""Annex A writer: official sheet names, headings and codes; rows as the truth says."""

from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from cscflow.synth.writers import annex_a


@pytest.fixture(scope="module")
def workbook(hand_county, tmp_path_factory):
    out = tmp_path_factory.mktemp("annex")
    (path,) = annex_a.write(hand_county, out, np.random.default_rng(4), window_end=dt.date(2017, 9, 30))
    return path, pd.read_excel(path, sheet_name=None, dtype=str)


def test_sheets_and_headings_are_annex_as(shared_data, workbook):
    path, sheets = workbook
    schema = yaml.safe_load((shared_data / "sfdl-liia-tools-pipeline" / "schema_yml" / "Annex_A_schema.yml").read_text())
    assert list(sheets) == [f"List {i}" for i in range(1, 11)]
    for i in range(1, 11):
        assert list(sheets[f"List {i}"].columns) == list(schema["column_map"][f"list_{i}"]), i
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.properties.created == dt.datetime(2017, 9, 30, 12, 0)


def test_coded_values_are_in_the_data_map(shared_data, workbook):
    _, sheets = workbook
    config = yaml.safe_load((shared_data / "sfdl-liia-tools" / "schema_yml" / "annex_a_data-map.yml").read_text())
    checked = 0
    for lst, columns in config["data_config"].items():
        if lst not in sheets:
            continue
        frame = sheets[lst]
        by_lower = {c.lower().rstrip("?"): c for c in frame.columns}
        for col, codes in columns.items():
            name = by_lower.get(col.lower().rstrip("?"))
            if name is None or name == "LA of Placement":  # the map lists only non-English places
                continue
            allowed = {str(c["code"]) for c in codes}
            values = set(frame[name].dropna())
            if values and values <= {"Yes", "No"} and "a) Yes" in allowed:
                continue  # plain Yes/No columns, as in Annex A's sample workbook
            assert values <= allowed, (lst, name, values - allowed)
            checked += len(values)
    assert checked > 40


def test_rows_follow_the_truth(hand_county, workbook):
    _, sheets = workbook
    j = hand_county.journeys
    w0, w1 = pd.Timestamp("2016-10-01"), pd.Timestamp("2017-09-30")

    def started(stage):
        return [r for r in j.itertuples() if r.stage == stage and w0 <= r.start <= w1]

    def open_in(stage):
        return [r for r in j.itertuples() if r.stage == stage and r.start <= w1 and (pd.isna(r.end) or r.end >= w0)]

    assert sorted(sheets["List 1"]["Child Unique ID"]) == sorted(r.child_id for r in started("contact"))
    assert sorted(sheets["List 3"]["Child Unique ID"]) == sorted(r.child_id for r in started("referral"))
    assert sorted(sheets["List 5"]["Child Unique ID"]) == sorted(r.child_id for r in started("s47"))
    assert sorted(sheets["List 4"]["Child Unique ID"]) == sorted(r.child_id for r in open_in("assessment"))
    assert sorted(sheets["List 7"]["Child Unique ID"]) == sorted(r.child_id for r in open_in("cp_plan"))
    assert sorted(sheets["List 8"]["Child Unique ID"]) == sorted({r.child_id for r in open_in("looked_after")})
    assert len(sheets["List 8"]) > 5 and len(sheets["List 1"]) > 10
    # nothing after the inspection is known
    for frame in sheets.values():
        for col in frame.columns:
            if col.startswith("Date") or "Date" in col:
                dates = pd.to_datetime(frame[col], errors="coerce").dropna()
                if "Birth" not in col:
                    assert (dates <= w1).all(), col
    # referral NFA and repeat counts, by hand
    l3 = sheets["List 3"].assign(d=lambda f: pd.to_datetime(f["Date of referral"]))
    refs = [r for r in j.itertuples() if r.stage == "referral"]
    for row in l3.itertuples():
        prior = [r for r in refs if r.child_id == row[1] and row.d - pd.Timedelta(days=365) <= r.start.normalize() < row.d]
        assert int(row[9]) == len(prior)


def test_same_seed_same_bytes(hand_county, tmp_path):
    a = annex_a.write(hand_county, tmp_path / "a", np.random.default_rng(4))[0].read_bytes()
    b = annex_a.write(hand_county, tmp_path / "b", np.random.default_rng(4))[0].read_bytes()
    assert a == b
