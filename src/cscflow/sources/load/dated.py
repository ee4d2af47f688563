"""Load stage 6b, dated rows: each source's plan reviews (``reviews``) and missing episodes (``missing``),
their LA child ids pseudonymised with the source's :class:`~cscflow.sources.load.pseudonymise.Pseudonyms`
(the same hash as the source's stays and children), each row numbered ``R<tag>-<n>`` / ``M<tag>-<n>``
(``tag``: :func:`~cscflow.sources.load.pseudonymise.source_tag`, so reloading a file gives the same ids).

A reader has already checked the dates (a row with a bad one is quarantined there); rows whose child id
or date is still empty are dropped here (none reach this stage from the bundled readers).

>>> import tempfile
>>> from cscflow.workspace import Workspace
>>> from cscflow.sources.base import ReadResult
>>> ws = Workspace(tempfile.mkdtemp(), la="886")
>>> r = ReadResult(source="Reviews.csv", format="903")
>>> r.reviews = pd.DataFrame({"source_child_id": ["C1"], "stage": ["looked_after"], "date": ["2020-01-02"],
...                           "code": ["PN1"], "attrs": [None], "source_row": [1]})
>>> f = reviews_frame(r, Pseudonyms(ws, {}))
>>> f["child_id"].tolist() == list(ws.pseudonymise(["C1"])), str(f["date"].iloc[0])
(True, '2020-01-02')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from cscflow.sources.base import ReadResult
from cscflow.sources.load.internal import write_frames
from cscflow.sources.load.pseudonymise import Pseudonyms, json_text, source_tag
from cscflow.sources.values import clean_id, map_values, parse_dates

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike


def _ids(frame: pd.DataFrame, pseudo: Pseudonyms) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` without rows lacking a child id, and the pseudonyms of the rest."""
    sid = map_values(frame["source_child_id"], clean_id)
    frame = frame.loc[sid.notna()]
    sid = sid[sid.notna()]
    return frame, pseudo(pa.array(sid.astype(object).tolist(), pa.string())).to_pylist()


def _bool(values: pd.Series) -> list[bool | None]:
    return [None if v is None or (isinstance(v, float) and v != v) else bool(v) for v in values]


def reviews_frame(result: ReadResult, pseudo: Pseudonyms) -> pd.DataFrame | None:
    """The ``reviews`` rows of one source (None when it has none)."""
    r = result.reviews
    if r is None or r.empty:
        return None
    r = r.assign(date=parse_dates(r["date"]))
    r = r.loc[r["date"].notna()]
    r, child = _ids(r, pseudo)
    if r.empty:
        return None
    tag = source_tag(result.source)
    return pd.DataFrame({
        "review_id": [f"R{tag}-{i}" for i in range(len(r))],
        "child_id": child,
        "stage": r["stage"].astype(object).to_numpy(),
        "date": r["date"].dt.date.to_numpy(),
        "code": [v or None for v in r["code"]] if "code" in r else None,
        "attrs": [json_text(v) for v in r["attrs"]] if "attrs" in r else None,
        "source": result.source,
        "source_row": pd.to_numeric(r["source_row"], errors="coerce").astype("Int64").to_numpy(),
    })


def missing_frame(result: ReadResult, pseudo: Pseudonyms) -> pd.DataFrame | None:
    """The ``missing`` rows of one source (None when it has none)."""
    m = result.missing
    if m is None or m.empty:
        return None
    m = m.assign(start=parse_dates(m["start"]), end=parse_dates(m["end"]))
    m, child = _ids(m, pseudo)
    if m.empty:
        return None
    tag = source_tag(result.source)
    return pd.DataFrame({
        "missing_id": [f"M{tag}-{i}" for i in range(len(m))],
        "child_id": child,
        "kind": m["kind"].astype(object).to_numpy(),
        "start": m["start"].to_numpy(),
        "end": m["end"].to_numpy(),
        "interview_offered": _bool(m["interview_offered"]) if "interview_offered" in m else None,
        "interview_accepted": _bool(m["interview_accepted"]) if "interview_accepted" in m else None,
        "attrs": [json_text(v) for v in m["attrs"]] if "attrs" in m else None,
        "source": result.source,
        "source_row": pd.to_numeric(m["source_row"], errors="coerce").astype("Int64").to_numpy(),
    })


def write_dated(ws: WorkspaceLike, results: list[ReadResult], pseudos: list[Pseudonyms]) -> None:
    """Append every source's reviews and missing episodes."""
    reviews, missing = [], []
    for result, pseudo in zip(results, pseudos, strict=True):
        reviews.append(reviews_frame(result, pseudo))
        missing.append(missing_frame(result, pseudo))
    write_frames(ws, "reviews", reviews)
    write_frames(ws, "missing", missing)


__all__ = ["missing_frame", "reviews_frame", "write_dated"]
