"""Legal proceedings spreadsheet: imperfections at the configured rate, each one really present,
clean rows exactly the truth, and links back to the true children."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cscflow.synth.writers import legal
from cscflow.synth.writers._common import WriterError


@pytest.fixture(scope="module")
def big_county(county_factory):
    """The hand county with 3000 proceedings rows (children reused across sets of proceedings)."""
    county = county_factory(80, seed=21)
    rng = np.random.default_rng(0)
    kids = county.children["child_id"].to_numpy()
    n = 3000
    app = pd.Timestamp("2014-06-01") + pd.to_timedelta(rng.integers(0, 1300, n), unit="D")
    county.proceedings = pd.DataFrame({
        "proceedings_id": [f"P{i:06d}" for i in range(n)], "child_id": kids[rng.integers(0, len(kids), n)],
        "case_number": [f"ME{15 + i % 3}C{50000 + i // 2}" for i in range(n)], "court": "Medway Family Court",
        "application_date": app, "interim_order_date": app + pd.Timedelta(days=2), "interim_order": "ICO",
        "final_order_date": app + pd.Timedelta(days=200), "order": "care_order",
    })
    county.parameters = {"legal_sheet": {"error_rate": 0.2, "unknown_share": 0.05}}
    return county


def test_imperfection_share_and_each_imperfection(big_county, tmp_path):
    sheet, links_path = legal.write(big_county, tmp_path, np.random.default_rng(5))
    frame = pd.read_excel(sheet, dtype={"Court Case No.": str})
    links = pd.read_csv(links_path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == legal.HEADINGS
    assert len(frame) == len(links) and links["row"].tolist() == [str(i) for i in range(1, len(frame) + 1)]
    known = links["child_id"] != ""
    assert known.sum() == 3000
    n_unknown = int((~known).sum())
    assert abs(n_unknown / len(links) - 0.05) < 4 * math.sqrt(0.05 * 0.95 / len(links))
    flagged = links.loc[known, "imperfections"] != ""
    p = flagged.mean()
    assert abs(p - 0.2) < 4 * math.sqrt(0.2 * 0.8 / 3000), p
    kids = big_county.children.set_index("child_id")
    procs = big_county.proceedings.set_index("proceedings_id")
    seen = set()
    for i in np.flatnonzero(known.to_numpy()):
        row, link = frame.iloc[i], links.iloc[i]
        kid = kids.loc[link.child_id]
        assert row["Court Case No."] == procs.at[link.proceedings_id, "case_number"]
        dob = pd.Timestamp(row["Child DOB"]) if pd.notna(row["Child DOB"]) else None
        kind = link.imperfections
        seen.add(kind)
        same_names = (row["Child Surname"], row["Child Forename(s)"]) == (kid.surname, kid.forenames)
        if kind == "":
            assert same_names and dob == kid.birth_date
        elif kind == "typo":
            assert row["Child Surname"] != kid.surname and abs(len(row["Child Surname"]) - len(kid.surname)) <= 1
        elif kind == "nickname":
            assert row["Child Forename(s)"].split()[0] == legal.nickname(kid.forenames.split()[0])
        elif kind == "initials":
            assert row["Child Forename(s)"] == " ".join(f[0] for f in kid.forenames.split())
        elif kind == "swapped_dob":
            assert (dob.day, dob.month, dob.year) == (kid.birth_date.month, kid.birth_date.day, kid.birth_date.year)
        elif kind == "missing_dob":
            assert dob is None and row["Child Surname"] == kid.surname
        elif kind == "surname_change":
            assert row["Child Surname"] != kid.surname and row["Child Forename(s)"] == kid.forenames
    assert seen == {"", *legal.KINDS}


def test_siblings_share_case_numbers_and_unknown_children_are_blank(county, tmp_path):
    sheet, links_path = legal.write(county, tmp_path, np.random.default_rng(1), error_rate=0.0, unknown_share=0.2)
    links = pd.read_csv(links_path, dtype=str, keep_default_na=False)
    truth = county.proceedings
    assert sorted(links.loc[links.child_id != "", "proceedings_id"]) == sorted(truth["proceedings_id"])
    assert (links.loc[links.child_id == "", "imperfections"] == "unknown_to_csc").all()
    per_case = truth.groupby("case_number")["child_id"].nunique()
    sheet_cases = links.loc[links.child_id != ""].groupby("case_number")["child_id"].nunique()
    pd.testing.assert_series_equal(sheet_cases.sort_index(), per_case.sort_index(), check_names=False)


def test_bad_rate_is_a_clear_error(county, tmp_path):
    with pytest.raises(WriterError, match="error_rate"):
        legal.write(county, tmp_path, np.random.default_rng(1), error_rate=1.5)


def test_same_seed_same_bytes(county, tmp_path):
    a = [p.read_bytes() for p in legal.write(county, tmp_path / "a", np.random.default_rng(3))]
    b = [p.read_bytes() for p in legal.write(county, tmp_path / "b", np.random.default_rng(3))]
    assert a == b
