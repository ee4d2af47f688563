"""Children in need census XML, one file per census year (``cin_census_<YYYY>.xml``).

The census year ``YYYY`` runs 1 April YYYY-1 to 31 March YYYY. A child is in the file when an
episode of need (a referral's ``need_id``) is open at any time in the year; the episode carries
its referral, closure, assessments, CIN plans (schemas from 2022), section 47 enquiries with
their ICPCs and child protection plans that overlap the year. Dates after 31 March YYYY are not
yet known at the census and are left out, as in a real return.

Structure, element order and code lists are those of the DfE CIN census schemas as kept in
``sfdl-liia-tools-pipeline/cin_xsd`` (CIN_schema_2017 ... 2026.xsd; see /work/shared/data/PROVENANCE.md):
2017's schema serves census years up to 2017, 2020's serves 2018-2020, 2024's serves 2023; CINPlanDates
exist from 2022; GenderCurrent (1/2/0/9) becomes Sex (M/F/U) in 2025; referral source 5D and closure
reason RC9 exist from 2023; assessment factors 18B/18C/19B/19C from 2021 and 24A from 2022.

>>> schema_year(2016), schema_year(2019), schema_year(2023), schema_year(2030)
(2017, 2020, 2024, 2026)
"""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
from lxml import etree

from cscflow.synth.writers._common import (
    SEX_NUMERIC,
    children_frame,
    collection_window,
    iso,
    need_closures,
    stage_frame,
)

#: Census year -> the year of the schema file that validates it.
_SCHEMAS = (2017, 2020, 2021, 2022, 2024, 2025, 2026)
DISABILITY_CODES = ("MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA")
REFERRAL_SOURCES = ("1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4", "5A", "5B",
                    "5C", "5D", "6", "7", "8", "9", "10")  # fmt: skip
PRIMARY_NEEDS = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9", "N0")
CATEGORIES = ("NEG", "PHY", "SAB", "EMO", "MUL")
_FACTOR_FALLBACK = {"18B": "18A", "18C": "18A", "19B": "19A", "19C": "19A", "24A": "20"}
_UPN = re.compile(r"[A-Za-z]\d{11}(\d|[A-Za-z])")


def schema_year(census_year: int) -> int:
    """The CIN schema that validates a census year (the newest schema not after it; 2017 before)."""
    if census_year <= 2017:
        return 2017
    if census_year <= 2020:
        return 2020
    return max(y for y in _SCHEMAS if y <= census_year)


def write(county, out_dir: Path, rng: np.random.Generator, *, years: list[int] | None = None) -> list[Path]:
    """Write ``cin_census_<YYYY>.xml`` for each census year of ``county`` (or ``years``).

    >>> import datetime as dt, tempfile, numpy as np
    >>> from cscflow.synth.county import County
    >>> c = County(la="886", start=dt.date(2017, 4, 1), end=dt.date(2018, 3, 31))
    >>> [p.name for p in write(c, Path(tempfile.mkdtemp()), np.random.default_rng(0))]
    ['cin_census_2018.xml']
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = _Facts(county, rng)
    return [_write_year(county, facts, year, out_dir) for year in (years or county.census_years())]


class _Facts:
    """Everything the yearly files share, computed once from the truth."""

    def __init__(self, county, rng: np.random.Generator) -> None:
        kids = children_frame(county)
        self.kids = kids.to_dict("index")
        # One recorded disability per disabled child, drawn once so every year agrees.
        draws = rng.integers(0, len(DISABILITY_CODES), size=len(kids))
        self.disability = {
            cid: (DISABILITY_CODES[d] if dis else "NONE")
            for cid, dis, d in zip(kids["child_id"], kids["disability"], draws, strict=True)
        }
        ref = stage_frame(county, "referral", ["referral_source", "primary_need"])
        ref = ref.drop_duplicates("need_id", keep="first")
        ref = ref.loc[ref["need_id"].notna()]
        closure = need_closures(county)
        ref = ref.merge(closure, how="left", left_on="need_id", right_index=True)
        ref["ref_iso"] = iso(ref["start"])
        ref["close_iso"] = iso(ref["closed"])
        self.referrals = ref
        self.by_need: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for stage, keys in (("assessment", ["factors"]), ("s47", ["icpc_due"]), ("icpc", []), ("cin_plan", []),
                            ("cp_plan", ["initial_category", "category_of_abuse"])):
            frame = stage_frame(county, stage, keys)
            frame = frame.loc[frame["need_id"].notna()]
            if stage == "cp_plan":
                frame["previous"] = frame.groupby("child_id").cumcount()
            frame["s_iso"] = iso(frame["start"])
            frame["e_iso"] = iso(frame["end"])
            for rec in frame.to_dict("records"):
                self.by_need[rec["need_id"]][stage].append(rec)


def _write_year(county, facts: _Facts, year: int, out_dir: Path) -> Path:
    y0, y1 = collection_window(year)
    sy = schema_year(year)
    ref = facts.referrals
    in_year = (ref["start"] <= y1) & (ref["closed"].isna() | (ref["closed"] >= y0))
    ref = ref.loc[in_year.to_numpy()].sort_values(["child_id", "start", "need_id"], kind="mergesort")
    kids = facts.kids
    y0s, y1s = y0.strftime("%Y-%m-%d"), y1.strftime("%Y-%m-%d")
    path = out_dir / f"cin_census_{year}.xml"
    with etree.xmlfile(str(path), encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("Message"):
            xf.write(_header(county.la, year), pretty_print=True)
            with xf.element("Children"):
                xf.write("\n")
                for cid, needs in groupby(ref.to_dict("records"), key=itemgetter("child_id")):
                    kid = kids[cid]
                    child = etree.Element("Child")
                    _identifiers(child, kid, year, y1)
                    chars = etree.SubElement(child, "ChildCharacteristics")
                    etree.SubElement(chars, "Ethnicity").text = kid["ethnicity"]
                    dis = etree.SubElement(chars, "Disabilities")
                    etree.SubElement(dis, "Disability").text = facts.disability[cid]
                    for need in needs:
                        _cin_details(child, need, facts.by_need.get(need["need_id"], {}), sy, y0s, y1s)
                    xf.write(child, pretty_print=True)
    return path


def _header(la: str, year: int) -> etree._Element:
    header = etree.Element("Header")
    details = etree.SubElement(header, "CollectionDetails")
    etree.SubElement(details, "Collection").text = "CIN"
    etree.SubElement(details, "Year").text = str(year)
    etree.SubElement(details, "ReferenceDate").text = f"{year}-03-31"
    source = etree.SubElement(header, "Source")
    etree.SubElement(source, "SourceLevel").text = "L"
    etree.SubElement(source, "LEA").text = str(la).zfill(3)[:3]
    etree.SubElement(source, "SoftwareCode").text = "cscflow synthetic county"
    etree.SubElement(source, "Release").text = "1"
    etree.SubElement(source, "SerialNo").text = "001"
    etree.SubElement(source, "DateTime").text = f"{year}-04-15T09:00:00"
    return header


def _identifiers(child, kid, year: int, y1: pd.Timestamp) -> None:
    ids = etree.SubElement(child, "ChildIdentifiers")
    etree.SubElement(ids, "LAchildID").text = str(kid["child_id"])
    upn = kid["upn"]
    birth = kid["birth_date"]
    born = pd.notna(birth) and birth <= y1
    if isinstance(upn, str) and _UPN.fullmatch(upn):
        etree.SubElement(ids, "UPN").text = upn
    elif born:
        under_six = (y1 - birth).days < 6 * 365.25
        etree.SubElement(ids, "UPNunknown").text = "UN1" if under_six else "UN2" if kid["uasc"] else "UN5"
    if born:
        etree.SubElement(ids, "PersonBirthDate").text = birth.strftime("%Y-%m-%d")
    else:
        expected = kid["expected_birth_date"] if pd.notna(kid["expected_birth_date"]) else birth
        if pd.notna(expected):
            etree.SubElement(ids, "ExpectedPersonBirthDate").text = expected.strftime("%Y-%m-%d")
    sex = kid["sex"] if born else "U"
    if year >= 2025:
        etree.SubElement(ids, "Sex").text = sex if sex in ("M", "F") else "U"
    else:
        etree.SubElement(ids, "GenderCurrent").text = SEX_NUMERIC.get(sex, "0")


def _in(rec: dict, y0s: str, y1s: str) -> bool:
    """A stay overlaps the census year (ISO texts compare as dates)."""
    return rec["s_iso"] <= y1s and (rec["e_iso"] == "" or rec["e_iso"] >= y0s)


def _known(date_iso: str, y1s: str) -> str | None:
    """A date as the census knows it: None when blank or after the census reference date."""
    return date_iso if date_iso and date_iso <= y1s else None


def _cin_details(child, need, stays: dict, sy: int, y0s: str, y1s: str) -> None:
    det = etree.SubElement(child, "CINdetails")
    etree.SubElement(det, "CINreferralDate").text = need["ref_iso"]
    src = need["referral_source"] if need["referral_source"] in REFERRAL_SOURCES else "10"
    if src == "5D" and sy < 2024:
        src = "5B"
    etree.SubElement(det, "ReferralSource").text = src
    etree.SubElement(det, "PrimaryNeedCode").text = need["primary_need"] if need["primary_need"] in PRIMARY_NEEDS else "N0"
    closed = _known(need["close_iso"], y1s)
    if closed:
        etree.SubElement(det, "CINclosureDate").text = closed
        reason = need["reason"] if isinstance(need["reason"], str) else "RC7"
        etree.SubElement(det, "ReasonForClosure").text = "RC8" if reason == "RC9" and sy < 2024 else reason
    icpcs = [r for r in stays.get("icpc", ()) if y0s <= r["s_iso"] <= y1s and r["outcome"] == "cp_plan"]
    if icpcs:
        etree.SubElement(det, "DateOfInitialCPC").text = icpcs[0]["s_iso"]
    for a in stays.get("assessment", ()):
        if not _in(a, y0s, y1s):
            continue
        el = etree.SubElement(det, "Assessments")
        etree.SubElement(el, "AssessmentActualStartDate").text = a["s_iso"]
        done = _known(a["e_iso"], y1s)
        if done:
            etree.SubElement(el, "AssessmentAuthorisationDate").text = done
            factors = _factors(a["factors"], sy)
            if factors:
                fel = etree.SubElement(el, "FactorsIdentifiedAtAssessment")
                for f in factors:
                    etree.SubElement(fel, "AssessmentFactors").text = f
    if sy >= 2022:
        for p in stays.get("cin_plan", ()):
            if _in(p, y0s, y1s):
                el = etree.SubElement(det, "CINPlanDates")
                etree.SubElement(el, "CINPlanStartDate").text = p["s_iso"]
                end = _known(p["e_iso"], y1s)
                if end:
                    etree.SubElement(el, "CINPlanEndDate").text = end
    for s in stays.get("s47", ()):
        if not _in(s, y0s, y1s):
            continue
        el = etree.SubElement(det, "Section47")
        etree.SubElement(el, "S47ActualStartDate").text = s["s_iso"]
        due = s["icpc_due"] if isinstance(s["icpc_due"], str) else None
        if due:
            etree.SubElement(el, "InitialCPCtarget").text = due[:10]
        end = _known(s["e_iso"], y1s)
        if end and s["outcome"] == "icpc":
            etree.SubElement(el, "DateOfInitialCPC").text = end
        etree.SubElement(el, "ICPCnotRequired").text = "1" if end and s["outcome"] != "icpc" else "0"
    etree.SubElement(det, "ReferralNFA").text = "1" if need["outcome"] == "nfa" and _known(need["close_iso"], y1s) else "0"
    for p in stays.get("cp_plan", ()):
        if not _in(p, y0s, y1s):
            continue
        el = etree.SubElement(det, "ChildProtectionPlans")
        etree.SubElement(el, "CPPstartDate").text = p["s_iso"]
        end = _known(p["e_iso"], y1s)
        if end:
            etree.SubElement(el, "CPPendDate").text = end
        latest = p["category_of_abuse"] if p["category_of_abuse"] in CATEGORIES else "NEG"
        initial = p["initial_category"] if p["initial_category"] in CATEGORIES else latest
        etree.SubElement(el, "InitialCategoryOfAbuse").text = initial
        etree.SubElement(el, "LatestCategoryOfAbuse").text = latest
        etree.SubElement(el, "NumberOfPreviousCPP").text = str(int(p["previous"]))
        reviews = cpp_reviews(p["start"], p["end"], y0s, y1s)
        if reviews:
            rel = etree.SubElement(el, "Reviews")
            for r in reviews:
                etree.SubElement(rel, "CPPreviewDate").text = r


def _factors(value, sy: int) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for f in (str(x).strip() for x in items):
        if not f:
            continue
        if (f in ("18B", "18C", "19B", "19C") and sy < 2021) or (f == "24A" and sy < 2022):
            f = _FACTOR_FALLBACK[f]
        if f not in out:
            out.append(f)
    return out


def cpp_reviews(start: pd.Timestamp, end, y0s: str, y1s: str) -> list[str]:
    """Review conference dates of a CP plan inside the census year: 3 months after the start, then
    every 6 months while the plan lasts (Working Together timescales).

    >>> cpp_reviews(pd.Timestamp("2017-01-10"), pd.NaT, "2017-04-01", "2018-03-31")
    ['2017-04-10', '2017-10-10']
    """
    out = []
    when = start + pd.DateOffset(months=3)
    stop = end if pd.notna(end) else pd.Timestamp(y1s) + pd.Timedelta(days=1)
    while when < stop:
        text = when.strftime("%Y-%m-%d")
        if text > y1s:
            break
        if text >= y0s:
            out.append(text)
        when = when + pd.DateOffset(months=6)
    return out
