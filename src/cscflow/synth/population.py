"""The children of the simulated county: ages, characteristics, names, LA ids and UPNs.

Children are registered as the simulation needs them (a family at its first referral, a
child with contacts only, an unaccompanied asylum-seeking child on arrival); at the end
:meth:`ChildRegistry.frame` turns the kept ones into the County ``children`` frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cscflow.synth import names as _names

UPN_LETTERS = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
DISTRICT_TEAMS = ("North District", "South District", "East District", "West District")


def age_days(rng: np.random.Generator, n: int, weights_by_year: list[float]) -> np.ndarray:
    """Ages in days for ``n`` children from relative weights per single year of age 0..17."""
    w = np.asarray(weights_by_year, dtype=float)
    years = rng.choice(len(w), size=n, p=w / w.sum())
    return (years * 365.25 + rng.random(n) * 365.25).astype(np.int64)


def upn_check_letter(body: np.ndarray) -> np.ndarray:
    """DfE UPN check letter for 12-digit bodies (rows of digits): weights 2..13, mod 23."""
    weights = np.arange(2, 14)
    letters: np.ndarray = UPN_LETTERS[(body * weights).sum(axis=1) % 23]
    return letters


class ChildRegistry:
    """Growing arrays of child characteristics; indices are the simulation's child numbers."""

    def __init__(self, params: dict[str, Any], rng: np.random.Generator) -> None:
        self.p = params
        self.rng = rng
        pop = params["population"]
        self.eth_codes = np.array(list(pop["ethnicity"]))
        self.eth_p = np.array(list(pop["ethnicity"].values()), dtype=float)
        self.eth_p /= self.eth_p.sum()
        self.district_p = np.array(list(pop["districts"].values()), dtype=float)
        self.district_p /= self.district_p.sum()
        self.districts = np.array(list(pop["districts"]))
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in (
            "dob", "male", "eth", "disability", "uasc", "district", "family", "unborn")}
        self.n = 0

    def add(self, dob: np.ndarray, *, family: np.ndarray, male: np.ndarray | None = None,
            eth: np.ndarray | None = None, uasc: bool = False, district: np.ndarray | None = None,
            unborn: np.ndarray | None = None) -> np.ndarray:
        """Register children born on ``dob`` (int days); returns their indices."""
        n = len(dob)
        rng, pop = self.rng, self.p["population"]
        self.cols["dob"].append(np.asarray(dob, dtype=np.int64))
        self.cols["male"].append(rng.random(n) < pop["sex_male"] if male is None else male)
        self.cols["eth"].append(
            np.asarray(rng.choice(len(self.eth_codes), size=n, p=self.eth_p) if eth is None else eth))
        self.cols["disability"].append(rng.random(n) < pop["disability"])
        self.cols["uasc"].append(np.full(n, uasc))
        self.cols["district"].append(
            rng.choice(len(self.districts), size=n, p=self.district_p) if district is None else district)
        self.cols["family"].append(np.asarray(family, dtype=np.int64))
        self.cols["unborn"].append(np.zeros(n, bool) if unborn is None else unborn)
        idx = np.arange(self.n, self.n + n)
        self.n += n
        return idx

    def eth_index(self, codes: list[str]) -> np.ndarray:
        """Registry ethnicity indices of DfE codes (codes not in the county mix are appended)."""
        for c in codes:
            if c not in self.eth_codes:
                self.eth_codes = np.append(self.eth_codes, c)
        return np.array([int(np.flatnonzero(self.eth_codes == c)[0]) for c in codes])

    def arrays(self) -> dict[str, np.ndarray]:
        """The characteristics so far as one array per column (consolidated in place)."""
        for k, parts in self.cols.items():
            if len(parts) > 1:
                self.cols[k] = [np.concatenate(parts)]
        return {k: (v[0] if v else np.zeros(0)) for k, v in self.cols.items()}

    def frame(self, keep: np.ndarray, la: str, end_day: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """County children frame for registry indices ``keep`` (sorted), their LA child ids and the ids' numbers."""
        a = self.arrays()
        rng = self.rng
        n = len(keep)
        dob = a["dob"][keep]
        male = a["male"][keep].astype(bool)
        eth = self.eth_codes[a["eth"][keep]]
        fam = a["family"][keep]
        # LA child ids: unique, scattered 7-digit numbers
        ids = 1_000_000 + rng.permutation(n) * 7 + rng.integers(0, 7, n)
        child_id = np.char.add("C", ids.astype(str))
        # names: surname per family (by the ethnic group of the family's first child), forenames by sex
        lists = _names.lists()
        groups = np.array([_names.group_of(e) for e in eth])
        surname = np.empty(n, dtype=object)
        forename = np.empty(n, dtype=object)
        fam_u, fam_first = np.unique(fam, return_index=True)
        fam_pos = np.searchsorted(fam_u, fam)
        for g in ("white", "asian", "black", "other"):
            sel = groups[fam_first] == g
            sn = np.array(lists["surnames"][g], dtype=object)
            fam_sn = np.empty(len(fam_u), dtype=object)
            fam_sn[sel] = sn[rng.integers(0, len(sn), sel.sum())]
            surname_g = fam_sn
            take = sel[fam_pos]
            surname[take] = surname_g[fam_pos[take]]
            for sex, key in ((True, "boys"), (False, "girls")):
                m = (groups == g) & (male == sex)
                names = np.array(lists[key][g], dtype=object)
                # a skewed draw: popular names are popular
                pick = np.minimum((rng.pareto(1.2, m.sum()) * 4).astype(int), len(names) - 1)
                forename[m] = names[pick]
        # a second forename for about a third of children
        second = rng.random(n) < 0.33
        other = np.where(male, "James", "Rose")
        extra = np.array(lists["boys"]["white"] + lists["girls"]["white"], dtype=object)
        mid = extra[rng.integers(0, len(extra), n)]
        mid = np.where(np.isin(mid, lists["boys"]["white"]) == male, mid, other)
        forename = np.where(second, forename + " " + mid, forename)
        # UPN: allocated at school entry; none under 5 at the end, none for UASC
        has_upn = ((end_day - dob) >= 5 * 365.25) & ~a["uasc"][keep].astype(bool)
        year2 = (1970 + ((dob + 5 * 365.25) / 365.25).astype(int)) % 100
        body = np.zeros((n, 12), dtype=np.int64)
        for i, ch in enumerate(la[:3]):
            body[:, i] = int(ch)
        est = rng.integers(2000, 5400, n)
        serial = rng.integers(0, 1000, n)
        for i, (val, width) in enumerate(((est, 4), (year2, 2), (serial, 3))):
            off = 3 + sum((4, 2, 3)[:i])
            for j in range(width):
                body[:, off + j] = (val // 10 ** (width - 1 - j)) % 10
        letters = upn_check_letter(body)
        number = int(la[:3]) * 10**9 + est * 10**5 + year2 * 10**3 + serial
        digits = np.char.zfill(number.astype(str), 12) if n else np.array([], dtype=str)
        upn = np.where(has_upn, np.char.add(letters.astype(str), digits), None) if n else np.array([])
        birth = pd.to_datetime(dob.astype("datetime64[D]"))
        unborn = a["unborn"][keep].astype(bool)
        frame = pd.DataFrame({
            "child_id": child_id.astype(object),
            "la": la,
            "sex": np.where(male, "M", "F").astype(object),
            "ethnicity": eth.astype(object),
            "birth_date": birth,
            "disability": a["disability"][keep].astype(bool),
            "uasc": a["uasc"][keep].astype(bool),
            "upn": upn.astype(object),
            "surname": surname,
            "forenames": forename,
            "expected_birth_date": pd.Series(birth).where(unborn, pd.NaT).to_numpy(),
            "district": self.districts[a["district"][keep]].astype(object),
            "family_id": np.char.add("F", fam.astype(str)).astype(object),
        })
        return frame, child_id, ids
