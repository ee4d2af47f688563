"""Ofsted Annex A workbook (``annex_a.xlsx``): Lists 1-10 for the 12 months before an inspection.

Sheets "List 1" ... "List 10": contacts, early help, referrals, assessments, section 47 enquiries
and ICPCs, children in need, child protection, children in care, care leavers, adoption. Column
headings are Annex A's, as kept in ``sfdl-liia-tools-pipeline/schema_yml/Annex_A_schema.yml`` (the
column map per list); coded values carry Annex A's letter prefixes ("a) WBRI", "b) Female",
"q) 6: Police", "C2: FCO", "e) E4A: ...") as in ``sfdl-liia-tools/schema_yml/annex_a_data-map.yml`` and
the sample ``sfdl-liia-tools/samples/Annex_A.xlsx`` (see ``../shared/data/PROVENANCE.md``).

The window is the 12 months ending ``window_end`` (default: the County's last day). Lists 1, 3
and 5 hold events that started in the window; Lists 2, 4, 6, 7 the episodes open at any time in
it; List 8 every child looked after at any time in it (one row per child, latest episode); List 9
care leavers aged 16 to 25 with a care-leaver stay open in it; List 10 children with a decision
that they should be placed for adoption whose adoption journey was still open at the window's start.
Dates after ``window_end`` are not yet known and are left blank. Ages are whole years at
``window_end``. Items the simulation does not model (visits, health checks, postcodes) come from
``rng``.

>>> annex_a_label("ethnicity", "WBRI"), annex_a_label("gender", "F")
('a) WBRI', 'b) Female')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cscflow.synth.county import County
from cscflow.synth.writers import ssda903
from cscflow.synth.writers._common import (
    age_years,
    children_frame,
    need_closures,
    overlaps,
    stage_frame,
    write_xlsx,
)

_ETH = ["WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH",
        "BCRB", "BAFR", "BOTH", "CHNE", "OOTH"]  # fmt: skip
LABELS: dict[str, dict[Any, str]] = {  # "yesno" is keyed by bools
    "gender": {"M": "a) Male", "F": "b) Female", "U": "c) Not stated/recorded"},
    "ethnicity": {**{c: f"{chr(97 + i)}) {c}" for i, c in enumerate(_ETH)}, "REFU": "s) REFU", "NOBT": "s) NOBT"},
    "yesno": {True: "a) Yes", False: "b) No"},
    "source": {
        "1A": "a) 1A: Individual", "1B": "b) 1B: Individual", "1C": "c) 1C: Individual",
        "1D": "d) 1D: Individual", "2A": "e) 2A: Schools", "2B": "f) 2B: Education services",
        "3A": "g) 3A: Health services", "3B": "h) 3B: Health services", "3C": "i) 3C: Health services",
        "3D": "j) 3D: Health services", "3E": "k) 3E: Health services", "3F": "l) 3F: Health services",
        "4": "m) 4: Housing", "5A": "n) 5A: LA services", "5B": "o) 5B: LA services", "5C": "p) 5C: LA services",
        "5D": "o) 5B: LA services", "6": "q) 6: Police", "7": "r) 7: Other legal agency", "8": "s) 8: Other",
        "9": "t) 9: Anonymous", "10": "u) 10: Unknown",
    },
    "need": {
        "N1": "N1 - Abuse or neglect", "N2": "N2 - Child's disability", "N3": "N3 - Parental disability or illness",
        "N4": "N4 - Family in acute stress", "N5": "N5 - Family dysfunction",
        "N6": "N6 - Socially unacceptable behaviour", "N7": "N7 - Low income", "N8": "N8 - Absent parenting",
        "N9": "N9 - Cases other than children in need", "N0": "N0 - Not stated",
    },
    "closure": {
        "RC1": "RC1 - Adopted", "RC2": "RC2 - Died", "RC3": "RC3 - Child arrangements order",
        "RC4": "RC4 - Special guardianship order", "RC5": "RC5 - Transferred to services of another local authority",
        "RC6": "RC6 - Transferred to adult social care services",
        "RC7": "RC7 - Services ceased for any other reason, including child no longer in need",
        "RC8": "RC8 - Case closed after assessment, no further action",
        "RC9": "RC8 - Case closed after assessment, no further action",
    },
    "category": {"NEG": "a) Neglect", "PHY": "b) Physical abuse", "SAB": "c) Sexual abuse", "EMO": "d) Emotional abuse",
                 "MUL": "e) Multiple/not recommended"},
    "legal_status": {
        "E1": "E1: Placement order", "C1": "C1: ICO", "C2": "C2: FCO", "D1": "D1: Freeing order",
        "V2": "V2: Single period under S20", "L1": "L1: Police protection LA accommodation", "L2": "L2: EPO",
        "L3": "L3: Child assessment order LA accommodation", "J1": "J1: Remanded to LA or youth detention",
        "J2": "J2: LA accommodation under PACE", "J3": "J3: Youth rehabilitation order",
        "V3": "V3: Short term breaks, episodes recorded", "V4": "V4: Short term breaks, agreements recorded",
    },
    "rec": {
        "E11": "a) E11: Adopted - application unopposed", "E12": "b) E12: Adopted - consent dispensed",
        "E2": "c) E2: Died", "E3": "d) E3: Care taken by another LA",
        "E4A": "e) E4A: Returned home to live with parents or relatives - part of planning",
        "E4B": "f) E4B: Returned home to live with parents or relatives - not part of planning",
        "E13": "g) E13: Parents, relatives or other with no parental responsibility",
        "E41": "h) E41: Residence order granted",
        "E45": "i) E45: Special Guardianship Orders - former carer relative/friend",
        "E46": "j) E46: Special Guardianship Orders - former carer other",
        "E47": "k) E47: Special Guardianship Orders - relative/friend",
        "E48": "l) E48: Special Guardianship Orders - other", "E5": "m) E5: Moved into independent living - supported",
        "E6": "n) E6: Moved into independent living - no support",
        "E7": "o) E7: Transferred to residential care funded by adult social services",
        "E9": "p) E9: Sentenced to custody", "E14": "q) E14: Accommodation on remand ended",
        "E15": "r) E15: Age assessment determined child was 18 or over", "E16": "s) E16: Child moved abroad",
        "E8": "t) E8: Care ceased for any other reason", "E17": "v) E17: Aged 18+ and remained with current carers",
    },
    "placement": {
        "U1": "a) U1: Foster placement - relatives - long term", "U2": "b) U2: Foster placement - relative - FFA",
        "U3": "c) U3: Foster placement - relative - not FFA", "U4": "d) U4: Foster placement - long term",
        "U5": "e) U5: Foster placement - FFA", "U6": "f) U6: Foster placement - not FFA",
        "A3": "g) A3: Placed for adoption - consent - current foster",
        "A4": "h) A4: Placed for adoption - consent - not foster",
        "A5": "i) A5: Placed for adoption - order - foster", "A6": "j) A6: Placed for adoption - order - not foster",
        "P1": "k) P1: Placed with parents", "P2": "l) P2: Independent living", "P3": "m) P3: Residential employment",
        "H5": "n) H5: Residential accommodation", "K1": "o) K1: Secure Children's Homes",
        "K2": "p) K2: Children's Homes", "R1": "q) R1: Residential Care Home", "R2": "r) R2: NHS/Health Trust",
        "R3": "s) R3: Family Centre or Mother and Baby Unit", "R5": "t) R5: Young Offender Institution",
        "S1": "u) S1: Residential school", "Z1": "v) Z1: Other placements", "T0": "w) T0: Temporary placement",
        "T1": "x) T1: Temporary placement - hospital", "T2": "y) T2: Temporary placement - holiday",
        "T3": "z) T3: Temporary placement - carer holiday", "T4": "zz) T4: Temporary placement - seven days or less",
    },
    "provider": {"PR0": "a) PR0: Parents/Parental responsibility", "PR1": "b) PR1: Own provision",
                 "PR2": "c) PR2: Other LA provision", "PR3": "d) PR3: Other public provision",
                 "PR4": "e) PR4: Private provision", "PR5": "f) PR5: Voluntary/third sector"},
    "in_touch": {"YES": "a) Yes", "NO": "b) No", "DIED": "c) Died", "REFU": "d) Refu", "NREQ": "e) NREQ",
                 "RHOM": "f) Rhom"},
    "accommodation": {
        "B": "B: Parents/relatives", "C": "C: Community home/residential care",
        "D": "D: Semi-independent, transitional accommodation and self-contained accommodation",
        "E": "E: Supported lodgings", "G": "G: Abroad", "H": "H: Deported",
        "K": "K: Ordinary lodgings, without formal support", "R": "R: Residence not known",
        "S": "S: No fixed adobe/homeless", "T": "T: Foyers and similar supported accommodation",
        "U": "U: Independent living", "V": "V: Emergency accommodation", "W": "W: Bed and breakfast",
        "X": "X: In custody", "Y": "Y: Other accommodation", "Z": "Z: With former foster carers",
    },
    "activity": {
        "F1": "F1: Full time in higher education", "P1": "P1: Part time in higher education",
        "F2": "F2: Full time in education other than higher", "P2": "P2: Part time in education other than higher",
        "F3": "F3: Full time in training or employment", "P3": "P3: Part time in training or employment",
        "F4": "F3: Full time in training or employment", "P4": "P3: Part time in training or employment",
        "F5": "F3: Full time in training or employment", "P5": "P3: Part time in training or employment",
        "G4": "G4: Not in education, employment or training - illness or disability",
        "G5": "G5: Not in education, employment or training - other",
        "G6": "G6: Not in education, employment or training - pregnancy or parenting",
    },
}  # fmt: skip

COMMON = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)"]
DISABILITY = "Does the Child have a Disability"
TEAM, WORKER = "Allocated Team", "Allocated Worker"
HEADINGS: dict[str, list[str]] = {
    "List 1": [*COMMON, "Date of Contact", "Contact Source"],
    "List 2": [*COMMON, "Assessment start date", "Assessment completion date", "Organisation completing assessment"],
    "List 3": [*COMMON, "Date of referral", "Referral Source", "Referral NFA?", "Number of Referrals in Last 12 Months",
               TEAM, WORKER],
    "List 4": [*COMMON, DISABILITY, "Continuous Assessment Start Date", "Child Seen During Continuous Assessment",
               "Continuous Assessment Date of Authorisation",
               "Was the child assessed as requiring LA children's social care support?", TEAM, WORKER],
    "List 5": [*COMMON, DISABILITY, "Strategy discussion initiating Section 47 Enquiry Start Date",
               "Was an Initial Child Protection Conference deemed unnecessary?",
               "Date of Initial Child Protection Conference",
               "Did the Initial Child Protection Conference Result in a Child Protection Plan",
               "Number of Section 47 Enquiries in the last 12 months", "Number of ICPCs in the last 12 months",
               TEAM, WORKER],
    "List 6": [*COMMON, DISABILITY, "CIN Start Date", "Primary Need Code", "Date Child Was Last Seen",
               "CIN Closure Date", "Reason for Closure", "Case Status", TEAM, WORKER],
    "List 7": [*COMMON, DISABILITY, "Child Protection Plan Start Date", "Initial Category of Abuse",
               "Latest Category of Abuse", "Date of the Last Statutory Visit", "Was the Child Seen Alone?",
               "Date of latest review conference", "Child Protection Plan End Date",
               "Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)",
               "Number of Previous Child Protection Plans", TEAM, WORKER],
    "List 8": [*COMMON, "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)", DISABILITY,
               "Date Started to be Looked After", "Child's Category of Need",
               "Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)",
               "Start date of current legal status", "Child's Legal Status", "Date of Latest Statutory Review",
               "Date of Last Social Work Visit", "What is the permanence plan for this child?",
               "Date of Last IRO Visit / Contact to the Child", "Date of Last Health Assessment",
               "Date of Last Dental Check", "Number of Placements in the Last 12 months",
               "Date Ceased to be Looked After", "Reason Ceased to be Looked After",
               "Start Date of Most Recent Placement", "Placement Type", "Placement Provider", "Placement postcode",
               "URN of Placement", "Placement Location", "LA of Placement",
               "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months",
               "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months",
               "Was the child offered a Return Interview after their last missing episode (Y/N)?",
               "Did the child accept a Return Interview after their last missing episode (Y/N)?", TEAM, WORKER],
    "List 9": [*COMMON, "Unaccompanied Asylum Seeking Child (UASC), or formerly UASC if 18 or over (Y/N)", DISABILITY,
               TEAM, WORKER, "Allocated Personal Advisor", "Eligibility Category", "Latest Pathway Plan Review Date",
               "LA in Touch", "Latest Date of Contact", "Type of Accommodation", "Suitability of Accommodation",
               "Activity Status"],
    "List 10": ["Child Unique ID", "Family identifier", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)",
                DISABILITY, "Date the Child Entered Care", "Date of Decision that Child Should be Placed for Adoption",
                "Date of Placement Order", "Date of Matching Child and Prospective Adopters",
                "Date Placed for Adoption", "Date of Adoption Order",
                "Date of Decision that Child Should No Longer be Placed for Adoption",
                "Reason Why Child No Longer Placed for Adoption",
                "Date the child was placed for fostering in FFA or concurrent planning placement"],
}  # fmt: skip
_CASE_STATUS = {"looked_after": "a) Looked after child", "cp_plan": "b) Child Protection plan",
                "cin_plan": "c) Child in need plan", "assessment": "d) Open assessment"}
_PERM_PLAN = {"E11": "b) Adoption", "E12": "b) Adoption", "E41": "c) SGO/CAO", "E45": "c) SGO/CAO",
              "E46": "c) SGO/CAO", "E47": "c) SGO/CAO", "E48": "c) SGO/CAO", "E4A": "a) Return to family",
              "E4B": "a) Return to family", "E5": "d) Supported living in the community",
              "E6": "d) Supported living in the community"}  # fmt: skip


def annex_a_label(kind: str, code: object) -> str | None:
    """Annex A's coded value for a DfE code (None when the code is unknown or missing)."""
    return LABELS[kind].get(code) if code is not None else None


def write(county: County, out_dir: Path, rng: np.random.Generator, *, window_end: dt.date | None = None) -> list[Path]:
    """Write ``annex_a.xlsx`` for the 12 months ending ``window_end`` (default ``county.end``)."""
    end = pd.Timestamp(window_end or county.end)
    start = end - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    kids = children_frame(county)
    lists = _Lists(county, kids, start, end, rng)
    sheets = [(name, HEADINGS[name], getattr(lists, "list" + name.split()[1])()) for name in HEADINGS]
    path = write_xlsx(Path(out_dir) / "annex_a.xlsx", sheets, end.date(), title="Annex A (synthetic)")
    return [path]


class _Lists:
    def __init__(self, county: County, kids: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                 rng: np.random.Generator) -> None:
        self.county, self.kids, self.start, self.end, self.rng = county, kids, start, end, rng

    # --- helpers -------------------------------------------------------------------------------
    def _child_cols(self, frame: pd.DataFrame, disability: bool = True) -> pd.DataFrame:
        k = self.kids.reindex(frame["child_id"].to_numpy())
        out = pd.DataFrame({
            "Child Unique ID": frame["child_id"].to_numpy(),
            "Gender": k["sex"].map(LABELS["gender"]).fillna("c) Not stated/recorded").to_numpy(),
            "Ethnicity": k["ethnicity"].map(LABELS["ethnicity"]).fillna("s) NOBT").to_numpy(),
            "Date of Birth": k["birth_date"].where(k["birth_date"] <= self.end).to_numpy(),
            "Age of Child (Years)": np.maximum(age_years(k["birth_date"], self.end), 0),
        })  # fmt: skip
        if disability:
            out[DISABILITY] = k["disability"].map(LABELS["yesno"]).to_numpy()
        return out

    def _known(self, s: pd.Series) -> np.ndarray:
        """Dates as known at the window's end (later ones blank)."""
        known: np.ndarray = s.where(s <= self.end).to_numpy()
        return known

    def _days_before(self, when: pd.Series, lo: int, hi: int) -> np.ndarray:
        d = self.rng.integers(lo, hi + 1, size=len(when))
        days: np.ndarray = (pd.to_datetime(when) - pd.to_timedelta(d, unit="D")).to_numpy()
        return days

    def _started(self, stage: str, keys: Iterable[str] = ()) -> pd.DataFrame:
        f = stage_frame(self.county, stage, keys, start=self.start, end=self.end)
        return f.loc[(f["start"] >= self.start).to_numpy()].reset_index(drop=True)

    def _open(self, stage: str, keys: Iterable[str] = ()) -> pd.DataFrame:
        return stage_frame(self.county, stage, keys, start=self.start, end=self.end)

    def _count_before(self, stage: str, frame: pd.DataFrame) -> np.ndarray:
        """Per row: the child's stays of ``stage`` starting in the 12 months before the row's start."""
        allst = stage_frame(self.county, stage)
        codes, uniques = pd.factorize(allst["child_id"])
        day = allst["start"].to_numpy(dtype="datetime64[D]").astype(np.int64)
        big = np.int64(1 << 20)
        shift = np.int64(200_000)  # days since 1970 shifted positive; keys of one child stay below ``big``
        keys = np.sort(codes.astype(np.int64) * big + day + shift)
        row_code = pd.Index(uniques).get_indexer(frame["child_id"]).astype(np.int64)
        row_day = frame["start"].to_numpy(dtype="datetime64[D]").astype(np.int64) + shift
        hi = np.searchsorted(keys, row_code * big + row_day, "left")
        lo = np.searchsorted(keys, row_code * big + row_day - 365, "left")
        return np.where(row_code >= 0, hi - lo, 0)

    # --- lists ---------------------------------------------------------------------------------
    def list1(self) -> pd.DataFrame:
        f = self._started("contact", ["source", "referral_source"])
        src = f["source"].where(f["source"].notna(), f["referral_source"])
        out = self._child_cols(f, disability=False)
        out["Date of Contact"] = f["start"].dt.normalize().to_numpy()
        out["Contact Source"] = src.map(LABELS["source"]).fillna("u) 10: Unknown").to_numpy()
        return out

    def list2(self) -> pd.DataFrame:
        f = self._open("early_help")
        out = self._child_cols(f, disability=False)
        out["Assessment start date"] = f["start"].to_numpy()
        out["Assessment completion date"] = self._known(f["end"])
        out["Organisation completing assessment"] = f["team"].fillna("Early Help").to_numpy()
        return out

    def list3(self) -> pd.DataFrame:
        f = self._started("referral", ["referral_source"])
        out = self._child_cols(f, disability=False)
        out["Date of referral"] = f["start"].dt.normalize().to_numpy()
        out["Referral Source"] = f["referral_source"].map(LABELS["source"]).fillna("u) 10: Unknown").to_numpy()
        nfa = f["outcome"].eq("nfa") & f["end"].le(self.end)
        out["Referral NFA?"] = np.where(nfa, "Yes", "No")
        out["Number of Referrals in Last 12 Months"] = self._count_before("referral", f)
        out[TEAM], out[WORKER] = f["team"].to_numpy(), f["worker"].to_numpy()
        return out

    def list4(self) -> pd.DataFrame:
        f = self._open("assessment")
        out = self._child_cols(f)
        done = f["end"].le(self.end).to_numpy()
        out["Continuous Assessment Start Date"] = f["start"].to_numpy()
        out["Child Seen During Continuous Assessment"] = np.where(self.rng.random(len(f)) < 0.96, "Yes", "No")
        out["Continuous Assessment Date of Authorisation"] = self._known(f["end"])
        needs = ~f["outcome"].isin(["nfa", "step_down_early_help"]).to_numpy()
        out["Was the child assessed as requiring LA children's social care support?"] = np.where(
            done, np.where(needs, "Yes", "No"), None)
        out[TEAM], out[WORKER] = f["team"].to_numpy(), f["worker"].to_numpy()
        return out

    def list5(self) -> pd.DataFrame:
        f = self._started("s47")
        icpc = stage_frame(self.county, "icpc")[["child_id", "start", "outcome"]]
        icpc = icpc.rename(columns={"start": "icpc_date", "outcome": "icpc_outcome"})
        f = f.assign(icpc_date=f["end"].where(f["outcome"].eq("icpc")))
        f = f.merge(icpc, how="left", on=["child_id", "icpc_date"]).drop_duplicates(["child_id", "start", "need_id"])
        f = f.reset_index(drop=True)
        out = self._child_cols(f)
        ended = f["end"].le(self.end).to_numpy()
        out["Strategy discussion initiating Section 47 Enquiry Start Date"] = f["start"].to_numpy()
        out["Was an Initial Child Protection Conference deemed unnecessary?"] = np.where(
            ended, np.where(f["outcome"].eq("icpc"), "No", "Yes"), None)
        known_icpc = f["icpc_date"].le(self.end).to_numpy()
        out["Date of Initial Child Protection Conference"] = f["icpc_date"].where(known_icpc).to_numpy()
        out["Did the Initial Child Protection Conference Result in a Child Protection Plan"] = np.where(
            known_icpc, np.where(f["icpc_outcome"].eq("cp_plan"), "Yes", "No"), None)
        out["Number of Section 47 Enquiries in the last 12 months"] = self._count_before("s47", f)
        out["Number of ICPCs in the last 12 months"] = self._count_before("icpc", f)
        out[TEAM], out[WORKER] = f["team"].to_numpy(), f["worker"].to_numpy()
        return out

    def list6(self) -> pd.DataFrame:
        ref = stage_frame(self.county, "referral", ["primary_need"]).drop_duplicates("need_id")
        ref = ref.loc[ref["need_id"].notna()]
        clo = need_closures(self.county)
        ref = ref.merge(clo, how="left", left_on="need_id", right_index=True)
        keep = (ref["start"] <= self.end) & (ref["closed"].isna() | (ref["closed"] >= self.start))
        # CIN open at any time in the window, beyond a referral that went nowhere
        f = ref.loc[keep & ~(ref["outcome"].eq("nfa"))].reset_index(drop=True)
        status = self._status_at_end(f)
        closed = f["closed"].le(self.end).to_numpy()
        out = self._child_cols(f)
        out["CIN Start Date"] = f["start"].dt.normalize().to_numpy()
        out["Primary Need Code"] = f["primary_need"].map(LABELS["need"]).fillna("N0 - Not stated").to_numpy()
        last = f["closed"].where(closed, self.end)
        out["Date Child Was Last Seen"] = self._days_before(last, 0, 28)
        out["Date Child Was Last Seen"] = np.maximum(out["Date Child Was Last Seen"].to_numpy(),
                                                     f["start"].dt.normalize().to_numpy())
        out["CIN Closure Date"] = f["closed"].where(closed).to_numpy()
        out["Reason for Closure"] = np.where(closed, f["reason"].map(LABELS["closure"]).to_numpy(), None)
        out["Case Status"] = np.where(closed, "e) Closed episode", status["status"].to_numpy())
        out[TEAM], out[WORKER] = status["team"].to_numpy(), status["worker"].to_numpy()
        return out

    def _status_at_end(self, needs: pd.DataFrame) -> pd.DataFrame:
        """Per need: the highest-priority stay open at the window's end, with its team and worker."""
        j = self.county.journeys
        j = j.loc[j["need_id"].isin(needs["need_id"]) & j["stage"].isin(list(_CASE_STATUS) + ["referral"])]
        j = j.assign(start=pd.to_datetime(j["start"]), end=pd.to_datetime(j["end"]))
        rank = {"looked_after": 0, "cp_plan": 1, "cin_plan": 2, "assessment": 3, "referral": 4}
        j = j.loc[j["start"] <= self.end]
        j = j.assign(open=(j["end"].isna() | (j["end"] > self.end)).astype(int), rank=j["stage"].map(rank))
        j = j.sort_values(["need_id", "open", "rank", "start"], ascending=[True, False, True, False], kind="mergesort")
        top = j.drop_duplicates("need_id").set_index("need_id").reindex(needs["need_id"])
        status = np.where(top["open"].eq(1), top["stage"].map(_CASE_STATUS).fillna("d) Open assessment"),
                          "e) Closed episode")
        return pd.DataFrame({"status": status, "team": top["team"].to_numpy(), "worker": top["worker"].to_numpy()})

    def list7(self) -> pd.DataFrame:
        from cscflow.synth.reviews import cp_reviews

        f = self._open("cp_plan", ["initial_category", "category_of_abuse"])
        allcp = stage_frame(self.county, "cp_plan")
        prev = allcp.groupby("child_id").cumcount()
        prev.index = list(zip(allcp["child_id"], allcp["start"], strict=True))
        out = self._child_cols(f)
        latest = f["category_of_abuse"].fillna("NEG")
        out["Child Protection Plan Start Date"] = f["start"].to_numpy()
        out["Initial Category of Abuse"] = f["initial_category"].fillna(latest).map(LABELS["category"]).to_numpy()
        out["Latest Category of Abuse"] = latest.map(LABELS["category"]).to_numpy()
        until = f["end"].where(f["end"] <= self.end, self.end)
        out["Date of the Last Statutory Visit"] = np.maximum(self._days_before(until, 0, 10), f["start"].to_numpy())
        out["Was the Child Seen Alone?"] = np.where(self.rng.random(len(f)) < 0.8, "a) Yes", "b) No")
        held = cp_reviews(self.county)
        reviews = [[d for d in held.get((c, pd.Timestamp(s)), []) if d <= self.end]
                   for c, s in zip(f["child_id"], f["start"], strict=True)]
        out["Date of latest review conference"] = pd.to_datetime([r[-1] if r else None for r in reviews]).to_numpy()
        out["Child Protection Plan End Date"] = self._known(f["end"])
        epo = self._epo_children()
        out["Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)"] = [
            "a) Yes" if c in epo else "b) No" for c in f["child_id"]]
        out["Number of Previous Child Protection Plans"] = [
            int(prev.get((c, s), 0)) for c, s in zip(f["child_id"], f["start"], strict=True)]
        out[TEAM], out[WORKER] = f["team"].to_numpy(), f["worker"].to_numpy()
        return out

    def _epo_children(self) -> set[Any]:
        la = stage_frame(self.county, "looked_after", ["legal_status"],
                         start=self.end - pd.DateOffset(months=6), end=self.end)
        return set(la.loc[la["legal_status"].isin(["L1", "L2"]), "child_id"])

    def list8(self) -> pd.DataFrame:
        facts = ssda903.facts_for(self.county)
        ep = facts.episodes.loc[overlaps(facts.episodes, self.start, self.end)]
        if ep.empty:
            return pd.DataFrame(columns=HEADINGS["List 8"])
        latest = ep.groupby("child_id", sort=True).tail(1).set_index("child_id").sort_index()
        ids = latest.index.to_numpy()
        allep = facts.episodes
        period_start = allep.groupby("period")["start"].min()
        period_end = allep.groupby("period")["end"].last()
        per = latest["period"]
        out = self._child_cols(pd.DataFrame({"child_id": ids}), disability=False)
        k = self.kids.reindex(ids)
        out.insert(5, HEADINGS["List 8"][5], k["uasc"].map(LABELS["yesno"]).to_numpy())
        out[DISABILITY] = k["disability"].map(LABELS["yesno"]).to_numpy()
        started = period_start.reindex(per).to_numpy()
        out["Date Started to be Looked After"] = started
        out["Child's Category of Need"] = latest["CIN"].map(LABELS["need"]).to_numpy()
        # second period in the window: an earlier period of the same child ended in the 12 months
        ends = allep.groupby("period").agg(child=("child_id", "first"), end=("end", "last"))
        prev_end = ends.groupby("child")["end"].shift().reindex(per).to_numpy()
        again = np.where((started >= self.start.to_datetime64()) & (prev_end >= self.start.to_datetime64())
                         & (prev_end < started), "a) Yes", "b) No")
        out["Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)"] = again
        out["Start date of current legal status"] = _run_start(allep, latest, "legal_status")
        out["Child's Legal Status"] = latest["legal_status"].map(LABELS["legal_status"]).to_numpy()
        rev = facts.reviews.loc[facts.reviews["REVIEW"] <= self.end].groupby("CHILD")["REVIEW"].max()
        out["Date of Latest Statutory Review"] = rev.reindex(ids).to_numpy()
        p_end = period_end.reindex(per)
        in_care_until = p_end.where(p_end <= self.end, self.end).fillna(self.end)
        n = len(ids)
        out["Date of Last Social Work Visit"] = np.maximum(self._days_before(in_care_until, 0, 42), started)
        plan = latest["rec"].map(_PERM_PLAN).where(latest["end"].le(self.end))
        out["What is the permanence plan for this child?"] = plan.fillna(
            pd.Series(np.where(self.rng.random(n) < 0.6, "f) Long-term fostering", "a) Return to family"),
                      index=latest.index)).to_numpy()
        out["Date of Last IRO Visit / Contact to the Child"] = np.maximum(self._days_before(in_care_until, 0, 120),
                                                                           started)
        out["Date of Last Health Assessment"] = np.maximum(self._days_before(in_care_until, 0, 300), started)
        out["Date of Last Dental Check"] = np.maximum(self._days_before(in_care_until, 0, 300), started)
        moves = ep.assign(newplace=ep["placement"].ne(ep.groupby("child_id")["placement"].shift()))
        out["Number of Placements in the Last 12 months"] = moves.groupby("child_id")["newplace"].sum().reindex(
            ids).astype(int).to_numpy()
        ceased = p_end.le(self.end).to_numpy()
        out["Date Ceased to be Looked After"] = p_end.where(ceased).to_numpy()
        out["Reason Ceased to be Looked After"] = np.where(ceased, latest["rec"].map(LABELS["rec"]).to_numpy(), None)
        out["Start Date of Most Recent Placement"] = _run_start(allep, latest, "placement")
        out["Placement Type"] = latest["placement"].map(LABELS["placement"]).to_numpy()
        out["Placement Provider"] = latest["placement_provider"].map(LABELS["provider"]).to_numpy()
        out["Placement postcode"] = latest["PL_POST"].to_numpy()
        out["URN of Placement"] = latest["URN"].to_numpy()
        inside = self.rng.random(n) < 0.75
        out["Placement Location"] = np.where(inside, "a) In", "b) Out")
        out["LA of Placement"] = np.where(inside, str(self.county.la), "")
        mis = facts.missing.loc[facts.missing["MIS_START"].between(self.start, self.end)]
        m_count = mis.loc[mis["MISSING"].eq("M")].groupby("CHILD").size().reindex(ids).fillna(0).astype(int)
        a_count = mis.loc[mis["MISSING"].eq("A")].groupby("CHILD").size().reindex(ids).fillna(0).astype(int)
        out[HEADINGS["List 8"][28]] = m_count.to_numpy()
        out[HEADINGS["List 8"][29]] = a_count.to_numpy()
        any_missing = (m_count > 0).to_numpy()
        offered = self.rng.random(n) < 0.9
        accepted = self.rng.random(n) < 0.6
        out[HEADINGS["List 8"][30]] = np.where(any_missing, np.where(offered, "a) Yes", "b) No"), None)
        out[HEADINGS["List 8"][31]] = np.where(any_missing & offered, np.where(accepted, "a) Yes", "b) No"), None)
        out[TEAM], out[WORKER] = latest["team"].to_numpy(), latest["worker"].to_numpy()
        return out[HEADINGS["List 8"]]

    def list9(self) -> pd.DataFrame:
        f = self._open("care_leaver", ["in_touch", "activity", "accommodation"])
        f = f.drop_duplicates("child_id", keep="last").reset_index(drop=True)
        out = self._child_cols(f, disability=False)
        age = out["Age of Child (Years)"]
        keep = ((age >= 16) & (age <= 25)).to_numpy()
        f, out = f.loc[keep].reset_index(drop=True), out.loc[keep].reset_index(drop=True)
        k = self.kids.reindex(f["child_id"].to_numpy())
        out.insert(5, HEADINGS["List 9"][5], k["uasc"].map(LABELS["yesno"]).to_numpy())
        out[DISABILITY] = k["disability"].map(LABELS["yesno"]).to_numpy()
        out[TEAM], out[WORKER] = f["team"].to_numpy(), f["worker"].to_numpy()
        out["Allocated Personal Advisor"] = ["PA" + str(w)[1:] if isinstance(w, str) else None for w in f["worker"]]
        out["Eligibility Category"] = np.where(out["Age of Child (Years)"] < 18, "a) Relevant child",
                                               "b) Former relevant child")
        out["Latest Pathway Plan Review Date"] = np.maximum(self._days_before(pd.Series(self.end, index=f.index), 0, 180),
                                                            f["start"].to_numpy())
        out["LA in Touch"] = f["in_touch"].map(LABELS["in_touch"]).fillna("a) Yes").to_numpy()
        out["Latest Date of Contact"] = np.maximum(self._days_before(pd.Series(self.end, index=f.index), 0, 56),
                                                   f["start"].to_numpy())
        acc = f["accommodation"].fillna("")
        out["Type of Accommodation"] = acc.str[:1].map(LABELS["accommodation"]).to_numpy()
        out["Suitability of Accommodation"] = np.where(acc.str[1:2].eq("2"), "b) Unsuitable",
                                                       np.where(acc.eq(""), None, "a) Suitable"))
        out["Activity Status"] = f["activity"].map(LABELS["activity"]).to_numpy()
        return out[HEADINGS["List 9"]]

    def list10(self) -> pd.DataFrame:
        facts = ssda903.facts_for(self.county)
        ad = facts.adoption
        closed = ad["adopted_on"].combine_first(ad["ceased"])
        ad = ad.loc[(ad["decision"] <= self.end) & (closed.isna() | (closed >= self.start))].reset_index(drop=True)
        ep = facts.episodes
        entered = ep.groupby("child_id")["start"].min()
        e1 = ep.loc[ep["legal_status"].eq("E1")].groupby("child_id")["start"].min()
        placed = ep.loc[ep["placement"].isin(["A3", "A4", "A5", "A6"])].groupby("child_id")["start"].min()
        out = self._child_cols(ad)
        out.insert(1, "Family identifier", ["F" + str(c)[1:] for c in ad["child_id"]])
        out["Date the Child Entered Care"] = entered.reindex(ad["child_id"]).to_numpy()
        out["Date of Decision that Child Should be Placed for Adoption"] = ad["decision"].to_numpy()
        out["Date of Placement Order"] = self._known(e1.reindex(ad["child_id"]).reset_index(drop=True))
        out["Date of Matching Child and Prospective Adopters"] = self._known(ad["matched"])
        out["Date Placed for Adoption"] = self._known(placed.reindex(ad["child_id"]).reset_index(drop=True))
        out["Date of Adoption Order"] = self._known(ad["adopted_on"])
        stopped = ad["ceased"].le(self.end).to_numpy()
        out["Date of Decision that Child Should No Longer be Placed for Adoption"] = ad["ceased"].where(stopped).to_numpy()
        out["Reason Why Child No Longer Placed for Adoption"] = np.where(
            stopped, ad["reason_ceased"].map({"RD1": "RD1 - The child’s needs changed subsequent to the decision",
                                              "RD4": "RD4 - Any other reason"}).to_numpy(), None)
        out["Date the child was placed for fostering in FFA or concurrent planning placement"] = None
        return out[HEADINGS["List 10"]]


def _run_start(allep: pd.DataFrame, latest: pd.DataFrame, col: str) -> np.ndarray:
    """Start of the run of consecutive episodes (same period) sharing ``col`` with each child's latest one."""
    key = allep["period"].astype(str) + "|" + allep[col].astype(str)
    run = key.ne(key.shift()).cumsum()
    run_start = allep.groupby(run)["start"].transform("min")
    lookup = dict(zip(zip(allep["child_id"], allep["start"], strict=True), run_start, strict=True))
    starts: np.ndarray = pd.to_datetime([lookup.get((c, s)) for c, s in zip(latest.index, latest["start"],
                                                                             strict=True)]).to_numpy()
    return starts
