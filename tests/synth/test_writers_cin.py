"""CIN census writer: files validate against the strict XSD of their year; the right children and
episodes are in each year (checked against a naive reading of the truth)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from lxml import etree

from cscflow.synth.writers import cin
from cscflow.synth.writers._common import NEED_STAGES

_SCHEMAS: dict[int, etree.XMLSchema] = {}


def schema(shared, year: int) -> etree.XMLSchema:
    sy = cin.schema_year(year)
    if sy not in _SCHEMAS:
        _SCHEMAS[sy] = etree.XMLSchema(etree.parse(str(shared / "sfdl-liia-tools-pipeline" / "cin_xsd" /
                                                       f"CIN_schema_{sy}.xsd")))
    return _SCHEMAS[sy]


def naive_needs(county, year: int) -> dict[str, set[str]]:
    """child -> needs open at some time in the census year, from the truth with plain loops."""
    y0, y1 = pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 3, 31)
    first, last, is_open, owner = {}, {}, defaultdict(bool), {}
    for row in county.journeys.itertuples():
        if row.stage not in NEED_STAGES or row.need_id is None or pd.isna(row.need_id):
            continue
        n = row.need_id
        owner[n] = row.child_id
        if row.stage == "referral":
            first[n] = min(first.get(n, row.start), row.start)
        if pd.isna(row.end):
            is_open[n] = True
        else:
            last[n] = max(last.get(n, row.end), row.end)
    out: dict[str, set[str]] = defaultdict(set)
    for n, ref in first.items():
        if ref.normalize() <= y1 and (is_open[n] or last[n].normalize() >= y0):
            out[owner[n]].add(n)
    return out


@pytest.mark.parametrize("which", ["early", "late"])
def test_cin_files_validate_against_their_year(shared_data, tmp_path, which, county_factory):
    if which == "early":  # census years 2015-2018: 2017 schema and 2020's (2018)
        county = county_factory(70, seed=11)
    else:  # census years 2022-2026: CINPlanDates, 2024's schema for 2023, Sex from 2025
        county = county_factory(70, seed=12, start=dt.date(2021, 4, 1), end=dt.date(2026, 3, 31))
    paths = cin.write(county, tmp_path, np.random.default_rng(1))
    assert [p.name for p in paths] == [f"cin_census_{y}.xml" for y in county.census_years()]
    for year, path in zip(county.census_years(), paths, strict=True):
        doc = etree.parse(str(path))
        xsd = schema(shared_data, year)
        assert xsd.validate(doc), f"{path.name}: {xsd.error_log.last_error}"
        has_sex = doc.find(".//Sex") is not None
        has_gender = doc.find(".//GenderCurrent") is not None
        assert (has_sex, has_gender) == ((True, False) if year >= 2025 else (False, True))
        if cin.schema_year(year) < 2022:
            assert doc.find(".//CINPlanDates") is None


def test_cin_children_and_episodes_match_truth(hand_county, tmp_path):
    paths = cin.write(hand_county, tmp_path, np.random.default_rng(2))
    for year, path in zip(hand_county.census_years(), paths, strict=True):
        doc = etree.parse(str(path))
        got = {c.findtext("ChildIdentifiers/LAchildID"): len(c.findall("CINdetails")) for c in doc.iter("Child")}
        expected = {k: len(v) for k, v in naive_needs(hand_county, year).items()}
        assert got == expected, year
        assert len(got) > 5


def test_cin_dates_after_census_day_are_not_known(hand_county, tmp_path):
    year = 2016
    (path,) = cin.write(hand_county, tmp_path, np.random.default_rng(2), years=[year])
    doc = etree.parse(str(path))
    dates = [el.text for tag in ("CINclosureDate", "CPPendDate", "AssessmentAuthorisationDate", "CINreferralDate")
             for el in doc.iter(tag)]
    assert dates and max(dates) <= "2016-03-31"
    # every CP plan open at the census date in the truth has no end date in the file
    cp = hand_county.journeys.query("stage == 'cp_plan'")
    open_at = cp[(cp.start <= "2016-03-31") & (cp.end.isna() | (cp.end > "2016-03-31"))]
    starts = {(p.getparent().getparent().findtext("ChildIdentifiers/LAchildID"), p.findtext("CPPstartDate"))
              for p in doc.iter("ChildProtectionPlans") if p.find("CPPendDate") is None}
    assert {(r.child_id, r.start.strftime("%Y-%m-%d")) for r in open_at.itertuples()} == starts


def test_cin_same_seed_same_bytes(hand_county, tmp_path):
    a = cin.write(hand_county, tmp_path / "a", np.random.default_rng(5))
    b = cin.write(hand_county, tmp_path / "b", np.random.default_rng(5))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
