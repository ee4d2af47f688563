"""SSDA903 (children looked after) return as CSV tables, one folder per collection year.

``ssda903/<YYYY>/{Header,Episodes,Reviews,Missing,UASC,OC3,AD1,PlacedAdoption,PrevPerm}.csv`` for the
year 1 April YYYY-1 to 31 March YYYY, with the standard 903 column names and ``dd/mm/yyyy`` dates.
As in the DfE return, Episodes holds every episode open at any time in the year, so an episode
spanning two years appears in both returns; a date after 31 March YYYY is not yet known (DEC, REC
and REASON_PLACE_CHANGE are blank for an episode still open at the year end).

Column names and code lists: ``sfdl-liia-tools/schema_yml/SSDA903_schema_2024.yml`` and the
``d2i-csc-validator-be-903/fake_data/*.csv`` files (see ``../shared/data/PROVENANCE.md``). Episodes,
Header and UASC come from the truth; the items the simulation does not model (postcodes, URNs,
review participation codes, missing episodes, adopter details) are drawn once per episode or child
(review dates: :mod:`cscflow.synth.reviews`)
from a generator seeded by the County's seed (see :func:`facts_for`), so every yearly return, the
XML return and Annex A agree about them; ``rng`` is accepted for the common writer signature.

>>> TABLES["Episodes"][:4]
['CHILD', 'DECOM', 'RNE', 'LS']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cscflow.synth.county import County
from cscflow.synth.reviews import cla_reviews
from cscflow.synth.writers._common import (
    SEX_NUMERIC,
    add_years,
    children_frame,
    collection_window,
    dmy,
    overlaps,
    stage_frame,
)

TABLES: dict[str, list[str]] = {
    "Header": ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    "Episodes": ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                 "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"],
    "Reviews": ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"],
    "Missing": ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"],
    "UASC": ["CHILD", "SEX", "DOB", "DUC"],
    "OC3": ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"],
    "AD1": ["CHILD", "DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"],
    "PlacedAdoption": ["CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"],
    "PrevPerm": ["CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"],
}  # fmt: skip

_EPISODE_KEYS = ["rne", "legal_status", "placement", "placement_provider", "rec", "reason_place_change", "cin"]
_OFSTED_PLACEMENTS = {"K1", "K2", "H5", "R1", "S1", "R2", "R3"}
_ADOPTED = {"E11", "E12"}
_ADOPTION_PLACEMENTS = {"A3", "A4", "A5", "A6"}
_POSTCODE_AREAS = ("ME", "CT", "TN", "DA", "BR", "RH")
_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


def write(county: County, out_dir: Path, rng: np.random.Generator, *, years: list[int] | None = None) -> list[Path]:
    """Write the nine 903 CSV tables for each collection year of ``county`` (or ``years``).

    >>> import datetime as dt, tempfile, numpy as np
    >>> from cscflow.synth.county import County
    >>> c = County(la="886", start=dt.date(2017, 4, 1), end=dt.date(2018, 3, 31))
    >>> [p.name for p in write(c, Path(tempfile.mkdtemp()), np.random.default_rng(0))][:2]
    ['Header.csv', 'Episodes.csv']
    """
    facts = facts_for(county)
    paths = []
    for year in years or county.census_years():
        folder = Path(out_dir) / "ssda903" / str(year)
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in facts.year_tables(year).items():
            path = folder / f"{name}.csv"
            frame.to_csv(path, index=False, lineterminator="\n")
            paths.append(path)
    return paths


def facts_for(county: County) -> Facts:
    """The :class:`Facts` of a County, built once and shared by the CSV, XML and Annex A writers.

    Items the truth does not hold are drawn from a generator seeded by ``county.seed`` (not the
    writer's ``rng``), so the 903 CSV and XML returns and Annex A's List 8 agree about them.
    """
    cached = _FACTS.get(id(county))
    if cached is not None and cached[0] is county and cached[1] is county.journeys:
        hit: Facts = cached[2]
        return hit
    facts = Facts(county, np.random.default_rng([int(county.seed), 903]))
    _FACTS.clear()
    _FACTS[id(county)] = (county, county.journeys, facts)
    return facts


_FACTS: dict[int, tuple[Any, ...]] = {}


class Facts:
    """The 903 view of a County: episodes with their periods of care and everything drawn from ``rng``."""

    def __init__(self, county: County, rng: np.random.Generator) -> None:
        self.la = str(county.la)
        kids = children_frame(county)
        ep = stage_frame(county, "looked_after", _EPISODE_KEYS).copy()
        self.kids = kids
        n = len(ep)
        # Category of need: the primary need of the referral the care episode belongs to.
        ref = stage_frame(county, "referral", ["primary_need"]).drop_duplicates("need_id")
        need_of = pd.Series(ref["primary_need"].to_numpy(), index=ref["need_id"].to_numpy())
        cin = ep["cin"].where(ep["cin"].notna(), ep["need_id"].map(need_of))
        ep["CIN"] = cin.where(cin.isin([f"N{i}" for i in range(1, 9)]), "N1")
        # Periods of care: a new period when the child changes or an episode does not follow on.
        new_child = ep["child_id"].ne(ep["child_id"].shift())
        gap = ep["start"].dt.normalize().ne(ep["end"].shift().dt.normalize())
        boundary = new_child | gap | ep["rne"].eq("S")
        ep["period"] = boundary.cumsum()
        ep["RNE"] = ep["rne"].where(ep["rne"].notna(), pd.Series(np.where(boundary, "S", "P"), index=ep.index))
        # Drawn once per episode / child (all yearly returns agree).
        in_care = pd.unique(ep["child_id"])
        home = pd.Series(_postcodes(rng, len(in_care)), index=in_care)
        ep["HOME_POST"] = ep["child_id"].map(home).fillna("").to_numpy()
        ep["PL_POST"] = _postcodes(rng, n)
        urn_draw = rng.integers(100000, 999999, size=n).astype(str).astype(object)
        ep["URN"] = np.where(ep["placement"].isin(_OFSTED_PLACEMENTS), "SC" + urn_draw, "XXXXXXX")
        self.episodes = ep
        girls = kids.loc[kids["child_id"].isin(in_care) & kids["sex"].eq("F"), "child_id"]
        mothers = rng.random(len(girls)) < 0.02
        self.mother = dict(zip(girls, np.where(mothers, "1", "0"), strict=True))
        horizon = pd.Timestamp(county.end) + pd.Timedelta(days=1)
        self.reviews = _reviews(county, ep, rng)
        self.missing = _missing(ep, kids, rng, horizon)
        self.adoption = _adoption(ep, rng)
        self.care_leavers = stage_frame(county, "care_leaver", ["in_touch", "activity", "accommodation"])
        self.prev_perm = _prev_perm(ep, self.la)

    def year_tables(self, year: int) -> dict[str, pd.DataFrame]:
        """The nine tables of the return for collection year ``year`` (strings, '' for blanks)."""
        y0, y1 = collection_window(year)
        ep = self.episodes.loc[overlaps(self.episodes, y0, y1)]
        known = ep["end"].notna() & (ep["end"] <= y1)
        kids = self.kids.loc[ep["child_id"].unique()] if len(ep) else self.kids.iloc[:0]
        kids = kids.sort_values("child_id")
        dob = dict(zip(kids["child_id"], dmy(kids["birth_date"]), strict=True))
        out: dict[str, pd.DataFrame] = {}
        out["Header"] = pd.DataFrame({
            "CHILD": kids["child_id"].to_numpy(), "SEX": kids["sex"].map(SEX_NUMERIC).fillna("").to_numpy(),
            "DOB": dmy(kids["birth_date"]), "ETHNIC": kids["ethnicity"].to_numpy(),
            "UPN": [_upn(u, b, y1, uasc) for u, b, uasc in zip(kids["upn"], kids["birth_date"], kids["uasc"],
                                                               strict=True)],
            "MOTHER": [self.mother.get(c, "") for c in kids["child_id"]], "MC_DOB": "",
        }, columns=TABLES["Header"])  # fmt: skip
        out["Episodes"] = pd.DataFrame({
            "CHILD": ep["child_id"].to_numpy(), "DECOM": dmy(ep["start"]), "RNE": ep["RNE"].to_numpy(),
            "LS": ep["legal_status"].to_numpy(), "CIN": ep["CIN"].to_numpy(), "PLACE": ep["placement"].to_numpy(),
            "PLACE_PROVIDER": ep["placement_provider"].to_numpy(),
            "DEC": dmy(ep["end"].where(known)), "REC": ep["rec"].where(known, "").fillna("").to_numpy(),
            "REASON_PLACE_CHANGE": ep["reason_place_change"].where(known, "").fillna("").to_numpy(),
            "HOME_POST": ep["HOME_POST"].to_numpy(), "PL_POST": ep["PL_POST"].to_numpy(), "URN": ep["URN"].to_numpy(),
        }, columns=TABLES["Episodes"])  # fmt: skip
        out["Reviews"] = _dated(self.reviews, "REVIEW", y0, y1, dob, TABLES["Reviews"])
        out["Missing"] = _dated(self.missing, "MIS_START", y0, y1, dob, TABLES["Missing"], blank_after=("MIS_END",))
        uasc = kids.loc[kids["uasc"]]
        out["UASC"] = pd.DataFrame({
            "CHILD": uasc["child_id"].to_numpy(), "SEX": uasc["sex"].map(SEX_NUMERIC).fillna("").to_numpy(),
            "DOB": dmy(uasc["birth_date"]), "DUC": dmy([add_years(b, 18) for b in uasc["birth_date"]]),
        }, columns=TABLES["UASC"])  # fmt: skip
        out["OC3"] = self._oc3(y0, y1)
        ad = self.adoption
        adopted = ad.loc[ad["adopted_on"].between(y0, y1)]
        out["AD1"] = pd.DataFrame({
            "CHILD": adopted["child_id"].to_numpy(), "DOB": [dob.get(c, "") for c in adopted["child_id"]],
            "DATE_INT": dmy(adopted["decision"]), "DATE_MATCH": dmy(adopted["matched"]),
            "FOSTER_CARE": adopted["foster_care"].to_numpy(), "NB_ADOPTR": adopted["nb_adoptr"].to_numpy(),
            "SEX_ADOPTR": adopted["sex_adoptr"].to_numpy(), "LS_ADOPTR": adopted["ls_adoptr"].to_numpy(),
        }, columns=TABLES["AD1"])  # fmt: skip
        placed = ad.loc[(ad["decision"] <= y1) & ad["child_id"].isin(dob).to_numpy()]
        placed = placed.loc[placed["ceased"].isna() | (placed["ceased"] >= y0)]
        ceased_known = placed["ceased"].notna() & (placed["ceased"] <= y1)
        out["PlacedAdoption"] = pd.DataFrame({
            "CHILD": placed["child_id"].to_numpy(), "DOB": [dob.get(c, "") for c in placed["child_id"]],
            "DATE_PLACED": dmy(placed["decision"]), "DATE_PLACED_CEASED": dmy(placed["ceased"].where(ceased_known)),
            "REASON_PLACED_CEASED": placed["reason_ceased"].where(ceased_known, "").fillna("").to_numpy(),
        }, columns=TABLES["PlacedAdoption"])  # fmt: skip
        pp = self.prev_perm
        pp = pp.loc[pp["start"].between(y0, y1)]
        out["PrevPerm"] = pd.DataFrame({
            "CHILD": pp["child_id"].to_numpy(), "DOB": [dob.get(c, "") for c in pp["child_id"]],
            "PREV_PERM": pp["PREV_PERM"].to_numpy(), "LA_PERM": pp["LA_PERM"].to_numpy(),
            "DATE_PERM": dmy(pp["DATE_PERM"]),
        }, columns=TABLES["PrevPerm"])  # fmt: skip
        return out

    def _oc3(self, y0: pd.Timestamp, y1: pd.Timestamp) -> pd.DataFrame:
        """Care leavers whose 17th to 21st birthday falls in the year (the OC3 cohort)."""
        cl = self.care_leavers.drop_duplicates("child_id", keep="last")
        rows = []
        for r in cl.itertuples(index=False):
            birth = self.kids.at[r.child_id, "birth_date"] if r.child_id in self.kids.index else pd.NaT
            if pd.isna(birth):
                continue
            age = y1.year - birth.year if (birth.month, birth.day) <= (3, 31) else y0.year - birth.year
            birthday = add_years(birth, age)
            if not 17 <= age <= 21 or r.start > y1 or (pd.notna(r.end) and r.end < birthday):
                continue
            in_touch = r.in_touch if isinstance(r.in_touch, str) else "YES"
            rows.append([r.child_id, birth.strftime("%d/%m/%Y"), in_touch,
                         r.activity if isinstance(r.activity, str) else "0",
                         _accom(r.accommodation)])
        return pd.DataFrame(rows, columns=TABLES["OC3"])


def _accom(code: object) -> str:
    """OC3 ACCOM: accommodation letter plus suitability (1 suitable, 2 not); a bare letter is taken as
    suitable; '0' when not known."""
    if not isinstance(code, str) or not code or code == "0":
        return "0"
    return code if len(code) == 2 else code[:1] + "1"


def _postcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` synthetic postcodes in Kent-like areas (random; no real address behind them)."""
    area = np.array(_POSTCODE_AREAS, dtype=object)[rng.integers(len(_POSTCODE_AREAS), size=n)]
    district = rng.integers(1, 20, size=n).astype(str).astype(object)
    sector = rng.integers(1, 10, size=n).astype(str).astype(object)
    letters = _LETTERS.astype(object)
    a, b = letters[rng.integers(len(_LETTERS), size=n)], letters[rng.integers(len(_LETTERS), size=n)]
    codes: np.ndarray = area + district + " " + sector + a + b
    return codes


def _upn(upn: object, birth: Any, y1: pd.Timestamp, uasc: object) -> str:
    if isinstance(upn, str) and len(upn) == 13:
        return upn
    if pd.notna(birth) and (y1 - birth).days < 6 * 365.25:
        return "UN1"
    return "UN2" if uasc else "UN5"


def _dated(frame: pd.DataFrame, col: str, y0: pd.Timestamp, y1: pd.Timestamp, dob: dict[str, Any], columns: list[str],
           blank_after: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows of a dated per-child frame whose ``col`` falls in the year, formatted for the CSV."""
    sel = frame.loc[frame[col].between(y0, y1) & frame["CHILD"].isin(dob).to_numpy()].copy()
    sel["DOB"] = [dob[c] for c in sel["CHILD"]]
    for c in columns:
        if c in sel and pd.api.types.is_datetime64_any_dtype(sel[c]):
            values = sel[c].where(sel[c] <= y1) if c in blank_after else sel[c]
            sel[c] = dmy(values)
    return sel[columns].reset_index(drop=True)


def _reviews(county: County, ep: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Statutory reviews of each period of care (:func:`cscflow.synth.reviews.cla_reviews`: 20 working days
    (28 days) after it starts, three months later, then every six months while the child is looked after,
    some held late); REVIEW_CODE (participation) drawn from ``rng``."""
    periods = ep.groupby("period", sort=True).agg(child=("child_id", "first"), start=("start", "min"),
                                                  end=("end", "max"), open=("end", lambda e: e.isna().any()))
    periods["end"] = periods["end"].where(~periods["open"].astype(bool))  # an open episode: the period is open
    dates = cla_reviews(county, periods)
    counts = np.array([len(d) for d in dates], dtype="int64")
    frame = pd.DataFrame({"CHILD": np.repeat(periods["child"].to_numpy(), counts),
                          "REVIEW": pd.to_datetime([d for per in dates for d in per]).astype("datetime64[ns]")})
    codes = np.array(["PN0", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"])
    frame["REVIEW_CODE"] = codes[rng.choice(8, size=len(frame), p=[.02, .55, .12, .1, .08, .05, .05, .03])]
    return frame


def _missing(ep: pd.DataFrame, kids: pd.DataFrame, rng: np.random.Generator, horizon: pd.Timestamp) -> pd.DataFrame:
    """Missing ('M') and away-without-authorisation ('A') episodes for looked-after children aged 11+:
    most children never go missing, a few go missing repeatedly (DfE: around one in ten looked-after
    children goes missing in a year, most of them teenagers, several times each)."""
    birth = ep["child_id"].map(kids["birth_date"])
    end = ep["end"].fillna(horizon)
    days = np.maximum((end - ep["start"]).dt.days.to_numpy(), 0)
    teen = ((end - birth).dt.days >= 11 * 365).to_numpy()
    risk = np.where(rng.random(len(ep)) > 0.2, 0.15, 2.5)
    count = np.where(teen, rng.poisson(risk * days / 365.25), 0)
    idx = np.repeat(np.arange(len(ep)), count)
    offset = (rng.random(len(idx)) * np.maximum(days[idx], 1)).astype(np.int64)
    start = ep["start"].to_numpy()[idx] + offset.astype("timedelta64[D]")
    length = rng.integers(0, 6, size=len(idx)).astype("timedelta64[D]")
    kind = np.where(rng.random(len(idx)) < 0.7, "M", "A")
    frame = pd.DataFrame({"CHILD": ep["child_id"].to_numpy()[idx], "MISSING": kind,
                          "MIS_START": start, "MIS_END": start + length})
    return frame.astype({"MIS_START": "datetime64[ns]", "MIS_END": "datetime64[ns]"})


def _adoption(ep: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Per period of care with a placement order (E1) or an adoption placement: the decision that the
    child should be placed for adoption, matching, adoption (REC E11/E12) or the decision ceasing."""
    rows = []
    wanted = ep.loc[ep["legal_status"].eq("E1") | ep["placement"].isin(_ADOPTION_PLACEMENTS), "period"].unique()
    for _, per in ep.loc[ep["period"].isin(wanted)].groupby("period", sort=True):
        e1 = per.loc[per["legal_status"].eq("E1") | per["placement"].isin(_ADOPTION_PLACEMENTS)]
        if e1.empty:
            continue
        last = per.iloc[-1]
        start = per["start"].min()
        placed = per.loc[per["placement"].isin(_ADOPTION_PLACEMENTS), "start"]
        placed_on = placed.min() if len(placed) else e1["start"].min()
        matched = max(start, placed_on - pd.Timedelta(days=int(rng.integers(14, 61))))
        decision = max(start, min(e1["start"].min(), matched) - pd.Timedelta(days=int(rng.integers(60, 181))))
        adopted = last["rec"] in _ADOPTED and pd.notna(last["end"])
        ceased = last["end"] if (pd.notna(last["end"]) and not adopted) else pd.NaT
        couple = rng.random() < 0.8
        sex = ("MF" if rng.random() < 0.85 else ("MM" if rng.random() < 0.5 else "FF")) if couple else (
            "F1" if rng.random() < 0.85 else "M1")
        ls = ("L11" if sex in ("MM", "FF") else ("L0" if rng.random() < 0.75 else "L2")) if couple else "L3"
        rows.append(dict(child_id=last["child_id"], decision=decision, matched=matched,
                         adopted_on=last["end"] if adopted else pd.NaT, ceased=ceased,
                         reason_ceased="RD1" if rng.random() < 0.5 else "RD4",
                         foster_care="1" if placed.size and per.loc[placed.index, "placement"].isin(["A3", "A5"]).any()
                         else "0", nb_adoptr="2" if couple else "1", sex_adoptr=sex, ls_adoptr=ls))
    cols = ["child_id", "decision", "matched", "adopted_on", "ceased", "reason_ceased", "foster_care", "nb_adoptr",
            "sex_adoptr", "ls_adoptr"]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("decision", "matched", "adopted_on", "ceased"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def _prev_perm(ep: pd.DataFrame, la: str) -> pd.DataFrame:
    """Each period of care's start with the permanence that ended the child's previous period, if any:
    P1 adoption, P2 special guardianship, P3 child arrangements (residence) order, Z1 none or unknown."""
    periods = ep.groupby("period", sort=True).agg(child_id=("child_id", "first"), start=("start", "min"),
                                                  end=("end", "last"), rec=("rec", "last"))
    prev = periods.groupby("child_id").shift()
    code = np.select([prev["rec"].isin(["E11", "E12"]), prev["rec"].isin(["E43", "E44", "E45", "E46", "E47", "E48"]),
                      prev["rec"].isin(["E41"])], ["P1", "P2", "P3"], "Z1")
    perm = code != "Z1"
    return pd.DataFrame({"child_id": periods["child_id"].to_numpy(), "start": periods["start"].to_numpy(),
                         "PREV_PERM": code, "LA_PERM": np.where(perm, la, ""),
                         "DATE_PERM": prev["end"].where(perm).to_numpy()})
