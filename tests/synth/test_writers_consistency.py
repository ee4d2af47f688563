"""Cross-format consistency: a child has the same LA id, sex and date of birth in Annex A, the CIN
census and the SSDA903 return, and it is the truth's."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from lxml import etree

from cscflow.synth.writers import annex_a, cin, ssda903


def test_same_child_same_id_sex_and_dob_everywhere(county, tmp_path):
    annex_a.write(county, tmp_path, np.random.default_rng(1), window_end=dt.date(2018, 3, 31))
    cin.write(county, tmp_path, np.random.default_rng(2))
    ssda903.write(county, tmp_path, np.random.default_rng(3))
    seen: dict[str, set] = {}
    sources: dict[str, set] = {}

    def note(cid, sex, dob, source):
        seen.setdefault(cid, set()).add((sex, dob))
        sources.setdefault(cid, set()).add(source)

    gender = {"a) Male": "M", "b) Female": "F"}
    for frame in pd.read_excel(tmp_path / "annex_a.xlsx", sheet_name=None, dtype=str).values():
        for cid, sex, dob in zip(frame["Child Unique ID"], frame["Gender"], frame["Date of Birth"], strict=True):
            if pd.notna(dob):
                note(cid, gender.get(sex), pd.Timestamp(dob).date(), "annex")
    for year in county.census_years():
        doc = etree.parse(str(tmp_path / f"cin_census_{year}.xml"))
        for ids in doc.iter("ChildIdentifiers"):
            dob = ids.findtext("PersonBirthDate")
            if dob:
                sex = {"1": "M", "2": "F"}.get(ids.findtext("GenderCurrent") or "", ids.findtext("Sex"))
                note(ids.findtext("LAchildID"), sex, dt.date.fromisoformat(dob), "cin")
        header = pd.read_csv(tmp_path / "ssda903" / str(year) / "Header.csv", dtype=str)
        for cid, sex, dob in zip(header["CHILD"], header["SEX"], header["DOB"], strict=True):
            note(cid, {"1": "M", "2": "F"}[sex], dt.datetime.strptime(dob, "%d/%m/%Y").date(), "903")
    kids = county.children.set_index("child_id")
    in_all_three = [c for c, s in sources.items() if s == {"annex", "cin", "903"}]
    assert len(in_all_three) >= 3
    for cid, values in seen.items():
        assert values == {(kids.at[cid, "sex"], kids.at[cid, "birth_date"].date())}, cid
