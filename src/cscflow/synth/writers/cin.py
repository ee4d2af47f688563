"""Children in need census XML, one file per census year (``cin_census_<YYYY>.xml``).

The census year ``YYYY`` runs 1 April YYYY-1 to 31 March YYYY. A child is in the file when an
episode of need (a referral's ``need_id``) is open at any time in the year; the episode carries
its referral, closure, assessments, CIN plans (schemas from 2022), section 47 enquiries with
their ICPCs and child protection plans that overlap the year. Dates after 31 March YYYY are not
yet known at the census and are left out, as in a real return.

Structure, element order and code lists are those of the DfE CIN census schemas as kept in
``sfdl-liia-tools-pipeline/cin_xsd`` (CIN_schema_2017 ... 2026.xsd; see ``../shared/data/PROVENANCE.md``):
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
from typing import Any

import numpy as np
import pandas as pd

from cscflow.synth.county import County
from cscflow.synth.reviews import cp_reviews
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
    if census_year == 2023:  # no 2023 schema: the 2024 one (which adds RC9 and 5D) serves it
        return 2024
    return max(y for y in _SCHEMAS if y <= census_year)


def write(county: County, out_dir: Path, rng: np.random.Generator, *, years: list[int] | None = None) -> list[Path]:
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
    """Everything the yearly files share, computed once from the truth (plain Python values, ISO dates)."""

    def __init__(self, county: County, rng: np.random.Generator) -> None:
        kids = children_frame(county)
        # One recorded disability per disabled child, drawn once so every year agrees.
        draws = rng.integers(0, len(DISABILITY_CODES), size=len(kids))
        disability = np.where(kids["disability"].to_numpy(), np.array(DISABILITY_CODES, dtype=object)[draws], "NONE")
        ref = stage_frame(county, "referral", ["referral_source", "primary_need"])
        ref = ref.drop_duplicates("need_id", keep="first")
        ref = ref.loc[ref["need_id"].notna()]
        closure = need_closures(county)
        ref = ref.merge(closure, how="left", left_on="need_id", right_index=True)
        self.referrals = pd.DataFrame({
            "child_id": ref["child_id"].to_numpy(), "need_id": ref["need_id"].to_numpy(), "start": ref["start"].to_numpy(),
            "closed": ref["closed"].to_numpy(), "ref_iso": iso(ref["start"]), "close_iso": iso(ref["closed"]),
            "referral_source": ref["referral_source"].to_numpy(), "primary_need": ref["primary_need"].to_numpy(),
            "reason": ref["reason"].to_numpy(), "outcome": ref["outcome"].to_numpy(),
        })  # fmt: skip
        wanted = kids["child_id"].isin(ref["child_id"]).to_numpy()
        k = kids.loc[wanted]
        self.kids = {
            cid: (upn if isinstance(upn, str) and _UPN.fullmatch(upn) else None, b, eb, sex, uasc, eth, dis)
            for cid, upn, b, eb, sex, uasc, eth, dis in zip(
                k["child_id"], k["upn"], iso(k["birth_date"]), iso(k["expected_birth_date"]), k["sex"], k["uasc"],
                k["ethnicity"], disability[wanted], strict=True)
        }
        self.by_need: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for stage, keys in (("assessment", ["factors"]), ("s47", ["icpc_due"]), ("icpc", []), ("cin_plan", []),
                            ("cp_plan", ["initial_category", "category_of_abuse"])):
            frame = stage_frame(county, stage, keys)
            frame = frame.loc[frame["need_id"].notna()]
            cols = {"need_id": frame["need_id"].to_numpy(), "s_iso": iso(frame["start"]), "e_iso": iso(frame["end"]),
                    "outcome": frame["outcome"].to_numpy()}
            for key in keys:
                cols[key] = frame[key].to_numpy()
            if stage == "cp_plan":
                cols["previous"] = frame.groupby("child_id").cumcount().to_numpy()
                dates = cp_reviews(county)
                cols["reviews"] = [[d.strftime("%Y-%m-%d") for d in dates.get((c, pd.Timestamp(st)), [])]
                                   for c, st in zip(frame["child_id"], frame["start"], strict=True)]
            names = list(cols)
            for values in zip(*cols.values(), strict=True):
                rec = dict(zip(names, values, strict=True))
                self.by_need[rec["need_id"]][stage].append(rec)


_XML_HEADER = """<?xml version='1.0' encoding='UTF-8'?>
<Message>
<Header>
  <CollectionDetails>
    <Collection>CIN</Collection>
    <Year>{year}</Year>
    <ReferenceDate>{year}-03-31</ReferenceDate>
  </CollectionDetails>
  <Source>
    <SourceLevel>L</SourceLevel>
    <LEA>{la}</LEA>
    <SoftwareCode>cscflow synthetic county</SoftwareCode>
    <Release>1</Release>
    <SerialNo>001</SerialNo>
    <DateTime>{year}-04-15T09:00:00</DateTime>
  </Source>
</Header>
<Children>
"""


def _write_year(county: County, facts: _Facts, year: int, out_dir: Path) -> Path:
    """One census file. Children are rendered as text (codes, ids and dates need no escaping beyond
    what :func:`_esc` does) and streamed to the file: lxml element building was the bottleneck."""
    y0, y1 = collection_window(year)
    sy = schema_year(year)
    ref = facts.referrals
    in_year = (ref["start"] <= y1) & (ref["closed"].isna() | (ref["closed"] >= y0))
    ref = ref.loc[in_year.to_numpy()].sort_values(["child_id", "start", "need_id"], kind="mergesort")
    kids = facts.kids
    y0s, y1s = y0.strftime("%Y-%m-%d"), y1.strftime("%Y-%m-%d")
    path = out_dir / f"cin_census_{year}.xml"
    records = ref[["child_id", "need_id", "ref_iso", "close_iso", "referral_source", "primary_need", "reason",
                   "outcome"]].to_numpy().tolist()
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(_XML_HEADER.format(year=year, la=str(county.la).zfill(3)[:3]))
        buf: list[str] = []
        for cid, needs in groupby(records, key=itemgetter(0)):
            buf.append("<Child>")
            _identifiers(buf, cid, kids[cid], year, y1s)
            buf.append(f"<ChildCharacteristics><Ethnicity>{kids[cid][5]}</Ethnicity><Disabilities>"
                       f"<Disability>{kids[cid][6]}</Disability></Disabilities></ChildCharacteristics>")
            for need in needs:
                _cin_details(buf, need, facts.by_need.get(need[1], {}), sy, y0s, y1s)
            buf.append("</Child>\n")
            if len(buf) > 20000:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
        fh.write("</Children>\n</Message>\n")
    return path


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") if text else text


def _identifiers(buf: list[str], cid: str, kid: tuple[Any, ...], year: int, y1s: str) -> None:
    upn, birth, expected, sex, uasc, _, _ = kid
    born = bool(birth) and birth <= y1s
    buf.append(f"<ChildIdentifiers><LAchildID>{_esc(str(cid))}</LAchildID>")
    if upn:
        buf.append(f"<UPN>{upn}</UPN>")
    elif born:
        under_six = (pd.Timestamp(y1s) - pd.Timestamp(birth)).days < 6 * 365.25
        buf.append(f"<UPNunknown>{'UN1' if under_six else 'UN2' if uasc else 'UN5'}</UPNunknown>")
    if born:
        buf.append(f"<PersonBirthDate>{birth}</PersonBirthDate>")
    elif expected or birth:
        buf.append(f"<ExpectedPersonBirthDate>{expected or birth}</ExpectedPersonBirthDate>")
    sex = sex if born else "U"
    if year >= 2025:
        buf.append(f"<Sex>{sex if sex in ('M', 'F') else 'U'}</Sex>")
    else:
        buf.append(f"<GenderCurrent>{SEX_NUMERIC.get(sex, '0')}</GenderCurrent>")
    buf.append("</ChildIdentifiers>")


def _in(rec: dict[str, Any], y0s: str, y1s: str) -> bool:
    """A stay overlaps the census year (ISO texts compare as dates)."""
    return bool(rec["s_iso"] <= y1s and (rec["e_iso"] == "" or rec["e_iso"] >= y0s))


def _known(date_iso: str, y1s: str) -> str | None:
    """A date as the census knows it: None when blank or after the census reference date."""
    return date_iso if date_iso and date_iso <= y1s else None


def _cin_details(buf: list[str], need: list[Any], stays: dict[str, Any], sy: int, y0s: str, y1s: str) -> None:
    _, _, ref_iso, close_iso, source, primary, reason, outcome = need
    src = source if source in REFERRAL_SOURCES else "10"
    if src == "5D" and sy < 2024:
        src = "5B"
    primary = primary if primary in PRIMARY_NEEDS else "N0"
    buf.append(f"<CINdetails><CINreferralDate>{ref_iso}</CINreferralDate><ReferralSource>{src}</ReferralSource>"
               f"<PrimaryNeedCode>{primary}</PrimaryNeedCode>")
    closed = _known(close_iso, y1s)
    if closed:
        reason = reason if isinstance(reason, str) else "RC7"
        reason = "RC8" if reason == "RC9" and sy < 2024 else reason
        buf.append(f"<CINclosureDate>{closed}</CINclosureDate><ReasonForClosure>{reason}</ReasonForClosure>")
    for r in stays.get("icpc", ()):
        if y0s <= r["s_iso"] <= y1s and r["outcome"] == "cp_plan":
            buf.append(f"<DateOfInitialCPC>{r['s_iso']}</DateOfInitialCPC>")
            break
    for a in stays.get("assessment", ()):
        if not _in(a, y0s, y1s):
            continue
        buf.append(f"<Assessments><AssessmentActualStartDate>{a['s_iso']}</AssessmentActualStartDate>")
        done = _known(a["e_iso"], y1s)
        if done:
            buf.append(f"<AssessmentAuthorisationDate>{done}</AssessmentAuthorisationDate>")
            factors = _factors(a["factors"], sy)
            if factors:
                buf.append("<FactorsIdentifiedAtAssessment>"
                           + "".join(f"<AssessmentFactors>{f}</AssessmentFactors>" for f in factors)
                           + "</FactorsIdentifiedAtAssessment>")
        buf.append("</Assessments>")
    if sy >= 2022:
        for p in stays.get("cin_plan", ()):
            if _in(p, y0s, y1s):
                end = _known(p["e_iso"], y1s)
                buf.append(f"<CINPlanDates><CINPlanStartDate>{p['s_iso']}</CINPlanStartDate>"
                           + (f"<CINPlanEndDate>{end}</CINPlanEndDate>" if end else "") + "</CINPlanDates>")
    for s in stays.get("s47", ()):
        if not _in(s, y0s, y1s):
            continue
        buf.append(f"<Section47><S47ActualStartDate>{s['s_iso']}</S47ActualStartDate>")
        due = s["icpc_due"] if isinstance(s["icpc_due"], str) else None
        if due:
            buf.append(f"<InitialCPCtarget>{due[:10]}</InitialCPCtarget>")
        end = _known(s["e_iso"], y1s)
        if end and s["outcome"] == "icpc":
            buf.append(f"<DateOfInitialCPC>{end}</DateOfInitialCPC>")
        buf.append(f"<ICPCnotRequired>{'1' if end and s['outcome'] != 'icpc' else '0'}</ICPCnotRequired></Section47>")
    buf.append(f"<ReferralNFA>{'1' if outcome == 'nfa' and closed else '0'}</ReferralNFA>")
    for p in stays.get("cp_plan", ()):
        if not _in(p, y0s, y1s):
            continue
        end = _known(p["e_iso"], y1s)
        latest = p["category_of_abuse"] if p["category_of_abuse"] in CATEGORIES else "NEG"
        initial = p["initial_category"] if p["initial_category"] in CATEGORIES else latest
        buf.append(f"<ChildProtectionPlans><CPPstartDate>{p['s_iso']}</CPPstartDate>"
                   + (f"<CPPendDate>{end}</CPPendDate>" if end else "")
                   + f"<InitialCategoryOfAbuse>{initial}</InitialCategoryOfAbuse>"
                   f"<LatestCategoryOfAbuse>{latest}</LatestCategoryOfAbuse>"
                   f"<NumberOfPreviousCPP>{int(p['previous'])}</NumberOfPreviousCPP>")
        reviews = [r for r in p["reviews"] if y0s <= r <= y1s]
        if reviews:
            buf.append("<Reviews>" + "".join(f"<CPPreviewDate>{r}</CPPreviewDate>" for r in reviews) + "</Reviews>")
        buf.append("</ChildProtectionPlans>")
    buf.append("</CINdetails>")


def _factors(value: Any, sy: int) -> list[str]:
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
