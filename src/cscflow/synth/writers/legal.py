"""The legal department's care-proceedings spreadsheet (``legal_proceedings.xlsx``) and its link truth.

One row per child per set of care proceedings, as legal departments keep them: court case number,
court, child's surname and forename(s), date of birth, application date, final order date and the
order made. Such sheets are typed by hand, apart from the CSC system, so a configurable share of
rows carries one realistic imperfection, drawn from ``rng``:

``typo`` (one letter wrong, dropped or swapped in the surname), ``nickname`` (Tom for Thomas),
``initials`` (forenames as initials), ``swapped_dob`` (day and month swapped), ``missing_dob``,
``surname_change`` (the child now known by another surname). Siblings in the same proceedings share
the case number (and usually the surname), and some rows are children unknown to the CSC data
(half-siblings cared for elsewhere, children of other LAs' cases).

``truth/proceedings_links.csv`` says, for each data row (1 = the first row under the headings),
which true child it is (blank for children unknown to CSC) and which imperfections it carries.

Shares come from ``county.parameters["legal_sheet"]`` (``error_rate``, default 0.15;
``unknown_share``, default 0.05) unless given as keywords.

>>> nickname("Thomas"), nickname("Zebedee")
('Tom', None)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cscflow.synth.county import County
from cscflow.synth.writers._common import WriterError, check_columns, children_frame, write_xlsx

HEADINGS = ["Court Case No.", "Court", "Child Surname", "Child Forename(s)", "Child DOB", "Date of Application",
            "Final Order Date", "Order Made"]  # fmt: skip
ORDERS = {"care_order": "Care Order", "supervision_order": "Supervision Order", "sgo": "Special Guardianship Order",
          "placement_order": "Placement Order", "cao": "Child Arrangements Order", "no_order": "No Order"}  # fmt: skip
KINDS = ("typo", "nickname", "initials", "swapped_dob", "missing_dob", "surname_change")
#: Relative frequency of each imperfection (assumption: typos and name forms are the commonest).
KIND_WEIGHTS = {"typo": 0.3, "nickname": 0.15, "initials": 0.15, "swapped_dob": 0.12, "missing_dob": 0.13,
                "surname_change": 0.15}  # fmt: skip
_NICKNAMES = {
    "Thomas": "Tom", "William": "Will", "James": "Jim", "Joshua": "Josh", "Daniel": "Dan", "Samuel": "Sam",
    "Alexander": "Alex", "Oliver": "Ollie", "Jacob": "Jake", "Joseph": "Joe", "Benjamin": "Ben",
    "Matthew": "Matt", "Frederick": "Fred", "Freddie": "Fred", "Charles": "Charlie", "Harrison": "Harry",
    "Henry": "Harry", "Edward": "Ed", "Nathaniel": "Nate", "Zachary": "Zach", "Michael": "Mike",
    "Elizabeth": "Beth", "Charlotte": "Lottie", "Jessica": "Jess", "Isabella": "Bella", "Isabelle": "Izzy",
    "Olivia": "Liv", "Amelia": "Millie", "Abigail": "Abbie", "Katherine": "Kate", "Rebecca": "Becky",
    "Victoria": "Vicky", "Samantha": "Sam", "Alexandra": "Alex", "Jennifer": "Jenny", "Margaret": "Maggie",
    "Florence": "Flo", "Eleanor": "Ellie", "Gabriella": "Gabby", "Natasha": "Tasha", "Mohammed": "Mo",
    "Muhammad": "Mo", "Ibrahim": "Ibby", "Christopher": "Chris", "Anthony": "Tony", "Jayden": "Jay",
    "Evelyn": "Evie", "Scarlett": "Lettie", "Madison": "Maddie", "Phoebe": "Phoebs", "Emmanuel": "Manny",
}  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def nickname(forename: str) -> str | None:
    """The usual short form of a first name, or None when there is none."""
    return _NICKNAMES.get(forename)


def write(county: County, out_dir: Path, rng: np.random.Generator, *, error_rate: float | None = None,
          unknown_share: float | None = None, truth_dir: Path | None = None) -> list[Path]:
    """Write ``legal_proceedings.xlsx`` and ``truth/proceedings_links.csv`` (in ``truth_dir`` when given);
    returns both paths."""
    conf = dict((county.parameters or {}).get("legal_sheet") or {})
    error_rate = float(conf.get("error_rate", 0.15) if error_rate is None else error_rate)
    unknown_share = float(conf.get("unknown_share", 0.05) if unknown_share is None else unknown_share)
    for name, value in (("error_rate", error_rate), ("unknown_share", unknown_share)):
        if not 0 <= value < 1:
            raise WriterError(f"legal_sheet.{name} is {value}; it must be a share between 0 and 1",
                              hint=f"set legal_sheet.{name} in the parameters to e.g. 0.1")
    procs = county.proceedings
    check_columns(procs, ("proceedings_id", "child_id", "case_number", "application_date", "final_order_date",
                          "order"), "proceedings")
    kids = children_frame(county)
    rows = _known_rows(procs, kids, rng, error_rate)
    rows += _unknown_rows(rows, kids, rng, unknown_share)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=[*HEADINGS, "child_id", "proceedings_id", "imperfections", "_order"])
    frame = frame.sort_values(["Date of Application", "Court Case No.", "_order"], kind="mergesort")
    frame = frame.reset_index(drop=True)
    for col in ("Child DOB", "Date of Application", "Final Order Date"):
        frame[col] = pd.to_datetime(frame[col])
    out_dir = Path(out_dir)
    sheet = write_xlsx(out_dir / "legal_proceedings.xlsx", [("Care proceedings", HEADINGS, frame)],
                       county.end, title="Care proceedings (synthetic)")
    links = pd.DataFrame({"row": np.arange(1, len(frame) + 1), "child_id": frame["child_id"].fillna(""),
                          "proceedings_id": frame["proceedings_id"].fillna(""),
                          "case_number": frame["Court Case No."], "imperfections": frame["imperfections"]})
    truth = Path(truth_dir if truth_dir is not None else out_dir / "truth") / "proceedings_links.csv"
    truth.parent.mkdir(parents=True, exist_ok=True)
    links.to_csv(truth, index=False, lineterminator="\n")
    return [sheet, truth]


def _known_rows(procs: pd.DataFrame, kids: pd.DataFrame, rng: np.random.Generator, error_rate: float) -> list[dict[str, Any]]:
    procs = procs.sort_values(["application_date", "case_number", "proceedings_id", "child_id"], kind="mergesort")
    surnames = sorted(set(kids["surname"].dropna())) if "surname" in kids else ["Smith"]
    kinds = list(KIND_WEIGHTS)
    weights = np.array([KIND_WEIGHTS[k] for k in kinds])
    rows = []
    for i, p in enumerate(procs.itertuples(index=False)):
        if p.child_id not in kids.index:
            raise WriterError(f"proceedings row {p.proceedings_id} names child {p.child_id!r}, not in County.children",
                              hint="every proceedings child_id must be a child of the County")
        kid = kids.loc[p.child_id]
        surname = str(kid.get("surname") or "Unknown")
        forenames = str(kid.get("forenames") or "Unknown")
        dob = kid["birth_date"]
        imperfect: list[str] = []
        if rng.random() < error_rate:
            ok = np.array([_applies(k, forenames, dob) for k in kinds])
            w = weights * ok
            kind = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]
            surname, forenames, dob = _imperfect(kind, surname, forenames, dob, surnames, rng)
            imperfect.append(kind)
        rows.append({
            "Court Case No.": p.case_number, "Court": p.court, "Child Surname": surname,
            "Child Forename(s)": forenames, "Child DOB": dob,
            "Date of Application": p.application_date, "Final Order Date": p.final_order_date,
            "Order Made": ORDERS.get(p.order) if isinstance(p.order, str) else None,
            "child_id": p.child_id, "proceedings_id": p.proceedings_id, "imperfections": ";".join(imperfect),
            "_order": i,
        })  # fmt: skip
    return rows


def _applies(kind: str, forenames: str, dob: Any) -> bool:
    if kind == "nickname":
        return nickname(forenames.split()[0]) is not None
    if kind == "swapped_dob":
        return bool(pd.notna(dob) and dob.day <= 12 and dob.day != dob.month)
    if kind == "missing_dob":
        return bool(pd.notna(dob))
    return True


def _imperfect(kind: str, surname: str, forenames: str, dob: Any, surnames: list[str],
               rng: np.random.Generator) -> tuple[str, str, Any]:
    if kind == "typo":
        surname = typo(surname, rng)
    elif kind == "nickname":
        first, *rest = forenames.split()
        forenames = " ".join([nickname(first) or first, *rest])
    elif kind == "initials":
        forenames = " ".join(f[0] for f in forenames.split() if f)
    elif kind == "swapped_dob":
        dob = pd.Timestamp(dob.year, dob.day, dob.month)
    elif kind == "missing_dob":
        dob = pd.NaT
    elif kind == "surname_change":
        choices = [s for s in surnames if s != surname] or [surname + "-Smith"]
        surname = choices[int(rng.integers(len(choices)))]
    return surname, forenames, dob


def typo(word: str, rng: np.random.Generator) -> str:
    """One keying slip in ``word``: a letter replaced, dropped, doubled or two letters swapped.

    >>> typo("Smith", np.random.default_rng(1)) != "Smith"
    True
    """
    if len(word) < 2:
        return word + "e"
    for _ in range(10):
        i = int(rng.integers(1, len(word)))  # the first letter is usually right
        how = int(rng.integers(4))
        if how == 0:
            out = word[:i] + _LETTERS[int(rng.integers(26))] + word[i + 1:]
        elif how == 1:
            out = word[:i] + word[i + 1:]
        elif how == 2:
            out = word[:i] + word[i] + word[i:]
        else:
            out = word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]
        if out != word:
            return out
    return word + "e"


def _unknown_rows(known: list[dict[str, Any]], kids: pd.DataFrame, rng: np.random.Generator, share: float) -> list[dict[str, Any]]:
    """Children unknown to CSC: half-siblings joined to an existing case, or children of new cases."""
    if not known or share <= 0:
        return []
    n = int(round(share * len(known) / (1 - share)))
    forenames = sorted(set(kids["forenames"].dropna())) if "forenames" in kids else ["Alex"]
    surnames = sorted(set(kids["surname"].dropna())) if "surname" in kids else ["Smith"]
    rows = []
    for i in range(n):
        base = known[int(rng.integers(len(known)))]
        app = base["Date of Application"]
        dob = app - pd.Timedelta(days=int(rng.integers(30, 17 * 365)))
        if rng.random() < 0.4:  # a half-sibling in the same proceedings, known to another LA
            case, surname, court, final, order = (base["Court Case No."], base["Child Surname"], base["Court"],
                                                  base["Final Order Date"], base["Order Made"])
        else:
            case = f"XX{int(rng.integers(10, 99))}C{int(rng.integers(10000, 99999))}"
            surname = surnames[int(rng.integers(len(surnames)))]
            court, final, order = base["Court"], base["Final Order Date"], base["Order Made"]
        rows.append({
            "Court Case No.": case, "Court": court, "Child Surname": surname,
            "Child Forename(s)": forenames[int(rng.integers(len(forenames)))], "Child DOB": dob,
            "Date of Application": app, "Final Order Date": final, "Order Made": order, "child_id": None,
            "proceedings_id": None, "imperfections": "unknown_to_csc", "_order": len(known) + i,
        })  # fmt: skip
    return rows
