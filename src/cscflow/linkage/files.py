"""Link any two lists of people (education, youth justice, health...) by the roles of their columns.

``fields`` maps a source column to a role (:data:`~cscflow.linkage.model.ROLES`) or to ``exact``;
the same column names are read from both files. The model is the one of proceedings linkage
(comparisons by role, u by random sampling, m by EM, term-frequency adjustment on names,
postcodes and addresses) without the court dates. The output keeps one best partner per record:
pairs are taken in decreasing match probability and a pair is kept only when neither record has
a partner yet (a greedy one-to-one assignment), and only at or above the threshold.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from cscflow.linkage.model import (
    ROLES,
    LinkageError,
    ModelSpec,
    dob_comparison,
    exact_comparison,
    forenames_comparison,
    oriented,
    postcode_comparison,
    score_pairs,
    surname_comparison,
    text_comparison,
)
from cscflow.linkage.records import standardise


def parse_fields(specs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["given_name=forenames", "soc_sec_id"]`` -> ``{"given_name": "forenames", "soc_sec_id": "exact"}``.

    >>> parse_fields(["dob=birth_date", "state"])
    {'dob': 'birth_date', 'state': 'exact'}
    """
    out: dict[str, str] = {}
    for spec in specs:
        col, _, role = spec.partition("=")
        role = (role or "exact").strip().lower()
        if role not in (*ROLES, "exact"):
            raise LinkageError(f"--field {spec!r}: no role {role!r}", hint=f"use one of {', '.join(ROLES)} or exact")
        out[col.strip()] = role
    if not out:
        raise LinkageError("no fields to compare", hint="give --field COLUMN=ROLE at least once")
    return out


def read_list(path: Path) -> pd.DataFrame:
    """A CSV (spaces after commas allowed) or xlsx list as text."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str)
    return pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False).replace({"": None})


def _dates(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    compact = text.str.fullmatch(r"\d{8}").fillna(False)
    out = pd.to_datetime(text.where(~compact), errors="coerce", dayfirst=True, format="mixed")
    out[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    return out


def prepare(frame: pd.DataFrame, id_column: str, fields: dict[str, str]) -> pd.DataFrame:
    """Comparison records of one list: cleaned columns per role, ``x_<column>`` for exact ones."""
    missing = [c for c in [id_column, *fields] if c not in frame.columns]
    if missing:
        raise LinkageError(f"column(s) {', '.join(missing)} not in the file",
                           hint=f"its columns are {', '.join(map(str, frame.columns))}")
    role_of = {r: c for c, r in fields.items() if r != "exact"}
    base = pd.DataFrame({"unique_id": frame[id_column].astype(str),
                         "surname": frame[role_of["surname"]] if "surname" in role_of else None,
                         "forenames": frame[role_of["forenames"]] if "forenames" in role_of else None,
                         "birth_date": _dates(frame[role_of["birth_date"]]) if "birth_date" in role_of else pd.NaT,
                         "sex": frame[role_of["sex"]].str.upper().str[:1] if "sex" in role_of else None})
    out = standardise(base)
    if "postcode" in role_of:
        out["postcode"] = frame[role_of["postcode"]].astype("string").str.upper().str.replace(" ", "").to_numpy()
    for role in ("address", "locality"):
        if role in role_of:
            out[role] = frame[role_of[role]].astype("string").str.lower().str.strip().to_numpy()
    for col, role in fields.items():
        if role == "exact":
            out[f"x_{_safe(col)}"] = frame[col].astype("string").str.strip().str.lower().to_numpy()
    return out


def _safe(col: str) -> str:
    return re.sub(r"\W+", "_", col).strip("_").lower() or "column"


def spec_for(fields: dict[str, str]) -> ModelSpec:
    """Comparisons and blocking for the roles present."""
    import splink

    roles = set(fields.values())
    comps: list[Any] = []
    blocks: list[Any] = []
    em: list[Any] = []
    names = {"surname", "forenames"} <= roles
    if names:
        comps += [surname_comparison(), forenames_comparison()]
        blocks.append(splink.block_on("surname", "forename1"))
        em.append(splink.block_on("surname", "forename1"))
    else:
        for role, col in (("surname", "surname"), ("forenames", "forename1")):
            if role in roles:
                comps.append(text_comparison(col))
                blocks.append(splink.block_on(col))
    if "birth_date" in roles:
        comps.append(dob_comparison())
        blocks += [splink.block_on("dob"), "l.dob_swapped = r.dob"]
        em.append(splink.block_on("dob"))
    if "sex" in roles:
        comps.append(exact_comparison("sex"))
    if "postcode" in roles:
        comps.append(postcode_comparison())
        blocks.append(splink.block_on("postcode"))
        em.append(splink.block_on("postcode"))
    for role in ("address", "locality"):
        if role in roles:
            comps.append(text_comparison(role))
    for col, role in fields.items():
        if role == "exact":
            comps.append(exact_comparison(f"x_{_safe(col)}", tf=True))
            blocks.append(splink.block_on(f"x_{_safe(col)}"))
    if not em:
        em = blocks[:2]
    det = ("l.dob = r.dob AND l.surname = r.surname AND l.forename1 = r.forename1"
           if names and "birth_date" in roles else blocks[0])
    return ModelSpec(comparisons=comps, blocking_rules=blocks, em_rules=em, deterministic_rules=[det], recall=0.7)


def link_frames(left: pd.DataFrame, right: pd.DataFrame, *, id_column: str, fields: dict[str, str],
                threshold: float = 0.95, engine: str = "duckdb", spark: Any = None) -> pd.DataFrame:
    """``left_id, right_id, match_probability``: one best partner per record at or above ``threshold``."""
    if not 0 < threshold <= 1:
        raise LinkageError(f"threshold {threshold} is not a probability in (0, 1]", hint="use e.g. 0.95")
    a, b = prepare(left, id_column, fields), prepare(right, id_column, fields)
    pairs, _ = score_pairs(a, b, spec_for(fields), engine=engine, spark=spark, min_probability=threshold)
    return one_to_one(oriented(pairs))


def one_to_one(pairs: pd.DataFrame) -> pd.DataFrame:
    """Greedy one-to-one assignment in decreasing probability (ties: by ids).

    >>> p = pd.DataFrame({"left_id": ["a", "a", "b"], "right_id": ["x", "y", "x"], "match_probability": [.9, .8, .7]})
    >>> one_to_one(p).values.tolist()
    [['a', 'x', 0.9]]
    """
    order = pairs.sort_values(["match_probability", "left_id", "right_id"], ascending=[False, True, True])
    used_l: set[Any] = set()
    used_r: set[Any] = set()
    keep = []
    for i, lid, rid in zip(order.index, order["left_id"], order["right_id"], strict=True):
        if lid in used_l or rid in used_r:
            continue
        used_l.add(lid)
        used_r.add(rid)
        keep.append(i)
    out = order.loc[keep, ["left_id", "right_id", "match_probability"]]
    return out.reset_index(drop=True)


def link_two_files(left: Path, right: Path, *, id_column: str, fields: dict[str, str],
                   threshold: float = 0.95) -> pd.DataFrame:
    """:func:`link_frames` on two files (CSV or xlsx)."""
    return link_frames(read_list(left), read_list(right), id_column=id_column, fields=fields, threshold=threshold)
