"""One CIN census file's frames: every record checked (:mod:`.checks`), the stays of the clean ones built
(:mod:`.stays`), one row per child with its identifiers (the columns of :mod:`.frames`).

>>> from cscflow.sources.cin.frames import CinTables
>>> t = CinTables()
>>> t.add_child(1, 1, 1, "C1", "2010-05-17", None, None, None, "1", "WBRI", ())
>>> t.add_need(1, 1, {"CINreferralDate": "2021-04-10", "ReferralNFA": "1"})
>>> out = build(t, today=dt.date(2024, 1, 1), year=2022, la="886")
>>> out.rows_loaded, list(out.episodes["outcome"]), out.children["sex"].tolist()
(1, ['nfa'], ['M'])
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cscflow.sources.base import CHILD_COLUMNS, IDENTIFIER_COLUMNS, REVIEW_COLUMNS
from cscflow.sources.cin.checks import check_records
from cscflow.sources.cin.frames import SEX_CODES, CinTables, _by_unique, _frag, _iso, _join, _objects, _quote
from cscflow.sources.cin.stays import build_stays


@dataclass
class CinFrames:
    """The frames of one file and its count of loaded records."""

    children: pd.DataFrame
    identifiers: pd.DataFrame
    episodes: pd.DataFrame | None
    quarantine: pd.DataFrame | None
    rows_loaded: int
    reviews: pd.DataFrame | None = None


def build(t: CinTables, *, today: dt.date, year: int | None, la: str | None) -> CinFrames:
    """Check every record of ``t``, build the stays of the clean ones and the frames."""
    checked = check_records(t, today)
    n = len(t.c_index)
    uasc_any = np.zeros(n, dtype=bool)
    uasc_assessed = np.zeros(n, dtype=bool)
    episodes = None
    if checked.loaded_needs.any():
        episodes, need_any, need_assessed = build_stays(checked, year)
        child_pos = checked.needs["child_index"].to_numpy() - 1
        uasc_any[child_pos[need_any]] = True
        uasc_assessed[child_pos[need_assessed]] = True
    children, identifiers = _children(t, checked, uasc_any, uasc_assessed, year, la)
    return CinFrames(children, identifiers, episodes, checked.quarantine, checked.rows_loaded,
                     _reviews(checked))


def _reviews(checked: Any) -> pd.DataFrame | None:
    """The CP plan review conferences of the loaded records (``reviews`` rows, stage ``cp_plan``)."""
    r = checked.reviews
    if r is None or r.empty:
        return None
    plans = checked.cpps[["row", "k", "start"]]
    r = r.merge(plans, on=["row", "k"], how="left").merge(checked.needs[["row", "child_id"]], on="row", how="left")
    return pd.DataFrame({
        "source_child_id": r["child_id"].to_numpy(), "stage": "cp_plan", "date": r["date"].to_numpy(), "code": None,
        "attrs": [f'{{"plan_start": "{s}"}}' for s in _iso(r["start"].to_numpy())],
        "source_row": r["row"].to_numpy(dtype="int64"),
    }, columns=REVIEW_COLUMNS)


def _disability_frag(d: Any) -> str:
    return '"disabilities": [' + ", ".join(map(_quote, d)) + "]" if d else ""


def _children(t: CinTables, checked: Any, uasc_any: np.ndarray, uasc_assessed: np.ndarray, year: int | None,
              la: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per child (its first <Child> with a loaded record); factor 9A later sets uasc."""
    pos = np.flatnonzero(checked.child_loaded)
    if not len(pos):
        return pd.DataFrame(columns=CHILD_COLUMNS), pd.DataFrame(columns=IDENTIFIER_COLUMNS)
    ids = _objects(t.c_id)[pos]
    first = ~pd.Series(ids).duplicated(keep="first").to_numpy()
    kept = pos[first]
    kept_ids = ids[first]
    uasc = uasc_assessed[kept]
    later = ids[~first & uasc_assessed[pos]]  # only assessment factor 9A marks a child as UASC
    if len(later):
        uasc = uasc | np.isin(kept_ids, later)
    disabilities = _objects(t.c_disabilities)[kept]
    birth = checked.birth.obj[kept]
    expected = checked.expected.obj[kept]
    unborn = _objects((e is not None and b is None) for b, e in zip(birth, expected, strict=True)).astype(bool)
    month = np.full(len(kept), "", dtype=object)
    month[unborn] = [f'"expected_birth_month": "{e.replace(day=1).isoformat()}"' for e in expected[unborn]]
    attrs = _join(
        np.full(len(kept), f'"census_year": {year}' if year else "", dtype=object),
        _by_unique(disabilities, _disability_frag),
        month,
        np.where(unborn, '"unborn_at_census": true', "").astype(object),
        _frag("upn_unknown", _objects(t.c_upn_unknown)[kept]),
    )
    children = pd.DataFrame({
        "source_child_id": kept_ids,
        "la": np.full(len(kept), la, dtype=object),
        "sex": _by_unique(_objects(t.c_sex)[kept], lambda x: SEX_CODES.get((x or "").upper(), "U")),
        "ethnicity": _objects(t.c_ethnicity)[kept],
        "birth_date": birth,
        "disability": _by_unique(disabilities, lambda d: bool(d) and any(x.upper() != "NONE" for x in d)).astype(bool),
        "uasc": uasc,
        "attrs": _objects(attrs),
    }, columns=CHILD_COLUMNS)
    identifiers = pd.DataFrame({
        "source_child_id": kept_ids, "upn": _objects(t.c_upn)[kept],
        "surname": np.full(len(kept), None, dtype=object), "forenames": np.full(len(kept), None, dtype=object),
        "birth_date": birth,
    }, columns=IDENTIFIER_COLUMNS)
    return children, identifiers
