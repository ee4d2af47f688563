"""SSDA903 Reviews and Missing rows kept as dated rows of the child (``ReadResult.reviews`` / ``.missing``).

Reviews -> stage ``looked_after``, ``date`` REVIEW, ``code`` REVIEW_CODE. Missing -> ``kind`` ``missing`` (M)
or ``away`` (A; another code: kind left empty, the code kept in attrs), ``start`` MIS_START, ``end``
MIS_END (blank: not yet returned). A row whose date is not a date, is implausible, is missing (REVIEW,
MIS_START) or ends before it starts is quarantined with the column and value named.

>>> import pandas as pd
>>> f = type("F", (), {"reviews": [], "missing": [], "bad": lambda self, *a: None})()
>>> def dates(f, frame, column, *, required, what):
...     parsed = pd.to_datetime(frame[column], format="%d/%m/%Y", errors="coerce")
...     return parsed, parsed.isna() if required else pd.Series(False, index=frame.index)
>>> frame = pd.DataFrame({"_row": [1, 2], "CHILD": ["C1", "C1"], "REVIEW": ["02/01/2020", "x"], "REVIEW_CODE": ["PN1", ""]})
>>> len(dated_rows(f, "reviews", frame, dates)), f.reviews[0]["date"].dt.strftime("%Y-%m-%d").tolist()
(1, ['2020-01-02'])
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from cscflow.sources.base import MISSING_COLUMNS, REVIEW_COLUMNS

_KINDS = {"M": "missing", "A": "away"}


def dated_rows(f: Any, table: str, frame: pd.DataFrame, dates: Callable[..., tuple[Any, ...]]) -> pd.DataFrame:
    """Append the ``reviews`` or ``missing`` rows of one file's ``frame`` to ``f.reviews`` / ``f.missing``;
    the rows without a problem (those quarantined through ``f.bad`` are left out) are returned.

    ``dates(f, frame, column, required=..., what=...)`` parses a date column and quarantines its bad
    values (:meth:`cscflow.sources.ssda903._Assembler._dates`): (dates, problem mask).
    """
    if table == "reviews":
        date, bad = dates(f, frame, "REVIEW", required=True, what="review date (REVIEW)")
        keep = frame.loc[~bad]
        f.reviews.append(pd.DataFrame({
            "source_child_id": keep["CHILD"].to_numpy(), "stage": "looked_after", "date": date[~bad].to_numpy(),
            "code": keep.get("REVIEW_CODE", pd.Series("", index=keep.index)).fillna("").to_numpy(),
            "attrs": None, "source_row": keep["_row"].to_numpy()}, columns=REVIEW_COLUMNS))
        return keep
    start, bad_start = dates(f, frame, "MIS_START", required=True, what="missing episode start (MIS_START)")
    end, bad_end = dates(f, frame, "MIS_END", required=False, what="missing episode end (MIS_END)")
    order = start.notna() & end.notna() & (end < start) & ~bad_start & ~bad_end
    for row, value, first in zip(frame.loc[order, "_row"], frame.loc[order, "MIS_END"], start[order], strict=True):
        f.bad(row, "MIS_END", value, f"missing episode ends before it starts ({first:%d/%m/%Y})",
              "correct MIS_START or MIS_END in the case system and re-export")
    good = ~(bad_start | bad_end | order)
    keep = frame.loc[good]
    code = keep.get("MISSING", pd.Series("", index=keep.index)).fillna("").astype(str).str.strip().str.upper()
    f.missing.append(pd.DataFrame({
        "source_child_id": keep["CHILD"].to_numpy(), "kind": code.map(_KINDS).to_numpy(),
        "start": start[good].to_numpy(), "end": end[good].to_numpy(), "interview_offered": None,
        "interview_accepted": None,
        "attrs": [None if c in _KINDS else json.dumps({"missing_code": c}) for c in code],
        "source_row": keep["_row"].to_numpy()}, columns=MISSING_COLUMNS))
    return keep


__all__ = ["dated_rows"]
