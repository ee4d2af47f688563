"""Helpers shared by the format writers: stage frames, collection windows, dates, xlsx saving.

Every writer reads the truth in a :class:`~cscflow.synth.county.County`; the helpers here
turn its frames into the shapes the returns need (one stage at a time, with the stage's
``attrs`` JSON parsed into columns) and write files deterministically (fixed workbook
timestamps, fixed zip entry times), so the same County and seed give byte-identical files.

>>> collection_window(2018)
(Timestamp('2017-04-01 00:00:00'), Timestamp('2018-03-31 00:00:00'))
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cscflow.errors import CscflowError

#: 903 / CIN (before 2025) sex codes; the CIN census from 2025 uses the letters themselves.
SEX_NUMERIC = {"M": "1", "F": "2"}

#: DfE ethnicity codes (CIN census and SSDA903 code lists).
ETHNICITY_CODES = (
    "WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
    "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
)  # fmt: skip

#: Stages that belong to an episode of need (children in need census), not contacts or early help.
NEED_STAGES = (
    "referral", "assessment", "strategy_discussion", "s47", "icpc", "cin_plan", "cp_plan",
    "looked_after", "pre_proceedings", "proceedings",
)  # fmt: skip


class WriterError(CscflowError):
    """A County cannot be written in a format (missing column, unusable value)."""


def collection_window(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day (inclusive) of the collection year ending 31 March ``year``."""
    return pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 3, 31)


def check_columns(frame: pd.DataFrame, needed: Iterable[str], what: str) -> None:
    """Raise :class:`WriterError` naming the first missing column of ``frame``."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise WriterError(
            f"County.{what} has no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))})",
            hint="build the County with cscflow.synth.simulate or give every column of cscflow.synth.county",
        )


def children_frame(county) -> pd.DataFrame:
    """The children table indexed by LA child id, with birth dates as datetime64."""
    check_columns(county.children, ("child_id", "sex", "ethnicity", "birth_date"), "children")
    kids = county.children.copy()
    kids["birth_date"] = pd.to_datetime(kids["birth_date"])
    if "expected_birth_date" in kids:
        kids["expected_birth_date"] = pd.to_datetime(kids["expected_birth_date"])
    else:
        kids["expected_birth_date"] = pd.NaT
    for col, default in (("disability", False), ("uasc", False), ("upn", None)):
        if col not in kids:
            kids[col] = default
    kids["disability"] = kids["disability"].fillna(False).astype(bool)
    kids["uasc"] = kids["uasc"].fillna(False).astype(bool)
    kids["ethnicity"] = kids["ethnicity"].where(kids["ethnicity"].isin(ETHNICITY_CODES), "NOBT")
    kids.index = pd.Index(kids["child_id"].to_numpy(), name=None)
    return kids


def parse_attrs(values: Iterable, keys: Iterable[str]) -> dict[str, list]:
    """Parse JSON ``attrs`` texts (or dicts, or None) into one list per key (None when absent).

    >>> parse_attrs(['{"rne": "S"}', None], ["rne", "ls"])
    {'rne': ['S', None], 'ls': [None, None]}
    """
    keys = list(keys)
    out: dict[str, list] = {k: [] for k in keys}
    loads = json.loads
    for raw in values:
        if isinstance(raw, str) and raw:
            try:
                obj = loads(raw)
            except ValueError as exc:
                raise WriterError(f"journeys.attrs is not JSON: {raw[:60]!r}", hint="write attrs as JSON") from exc
        elif isinstance(raw, dict):
            obj = raw
        else:
            obj = {}
        for k in keys:
            out[k].append(obj.get(k))
    return out


def stage_frame(county, stage: str, keys: Iterable[str] = (), *, start=None, end=None) -> pd.DataFrame:
    """Stays of one stage (optionally only those overlapping [start, end]) with attrs keys as columns.

    Sorted by child, start and need so that every writer sees the same order.
    """
    j = county.journeys
    check_columns(j, ("child_id", "need_id", "stage", "start", "end", "outcome"), "journeys")
    frame = j.loc[j["stage"].to_numpy() == stage]
    frame = frame.assign(start=pd.to_datetime(frame["start"]), end=pd.to_datetime(frame["end"]))
    if start is not None or end is not None:
        frame = frame.loc[overlaps(frame, start, end)]
    frame = frame.sort_values(["child_id", "start", "need_id"], kind="mergesort", na_position="first")
    frame = frame.reset_index(drop=True)
    keys = list(keys)
    if keys:
        attrs = frame["attrs"] if "attrs" in frame else [None] * len(frame)
        for k, vals in parse_attrs(attrs, keys).items():
            frame[k] = pd.Series(vals, index=frame.index, dtype=object)
    for col in ("team", "worker"):
        if col not in frame:
            frame[col] = None
    return frame


def overlaps(frame: pd.DataFrame, start, end) -> np.ndarray:
    """Rows whose [start, end] meets the window [start, end] (an open end never stops)."""
    s = frame["start"].dt.normalize()
    e = frame["end"].dt.normalize()
    mask = np.ones(len(frame), dtype=bool)
    if end is not None:
        mask &= (s <= pd.Timestamp(end)).to_numpy()
    if start is not None:
        mask &= (e.isna() | (e >= pd.Timestamp(start))).to_numpy()
    return mask


def dmy(values) -> np.ndarray:
    """Dates as 'dd/mm/yyyy' text, '' for missing (vectorised).

    >>> list(dmy(pd.Series(pd.to_datetime(["2017-03-05", None]))))
    ['05/03/2017', '']
    """
    s = pd.Series(pd.to_datetime(values))
    return s.dt.strftime("%d/%m/%Y").fillna("").to_numpy(dtype=object)


def iso(values) -> np.ndarray:
    """Dates as 'yyyy-mm-dd' text, '' for missing (vectorised)."""
    s = pd.Series(pd.to_datetime(values))
    return s.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)


def age_years(birth: pd.Series, on: pd.Timestamp | pd.Series) -> np.ndarray:
    """Whole years of age on a date (vectorised; NaN where the birth date is missing)."""
    b = pd.to_datetime(birth)
    o = pd.to_datetime(on) if isinstance(on, pd.Series) else pd.Series(pd.Timestamp(on), index=b.index)
    years = o.dt.year - b.dt.year
    before = (o.dt.month < b.dt.month) | ((o.dt.month == b.dt.month) & (o.dt.day < b.dt.day))
    return (years - before.astype(int)).to_numpy(dtype=float)


def add_years(ts: pd.Timestamp, years: int) -> pd.Timestamp:
    """Same day ``years`` later (29 February becomes 28 February)."""
    try:
        return ts.replace(year=ts.year + years)
    except ValueError:
        return ts.replace(year=ts.year + years, day=28)


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile whose entries all carry one fixed time, so xlsx files are byte-identical."""

    def __init__(self, path, stamp: tuple[int, int, int, int, int, int], compresslevel: int = 6) -> None:
        super().__init__(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._stamp = stamp
        self._level = compresslevel

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # noqa: D401
        name = zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo) else zinfo_or_arcname
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        super().writestr(info, data, compresslevel=self._level)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        info = zipfile.ZipInfo(arcname or str(filename), date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        with open(filename, "rb") as src, self.open(info, "w", force_zip64=True) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)


def save_workbook(wb, path: Path, when: dt.date) -> Path:
    """Save an openpyxl workbook with fixed created/modified times and zip entry times."""
    from openpyxl.writer.excel import ExcelWriter

    stamp = dt.datetime(when.year, when.month, when.day, 12, 0, 0)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "cscflow synthetic county"
    wb.properties.lastModifiedBy = None
    path.parent.mkdir(parents=True, exist_ok=True)
    with _FixedTimeZip(path, (stamp.year, stamp.month, stamp.day, 12, 0, 0), compresslevel=1) as archive:
        ExcelWriter(wb, archive).save()
    return path


def excel_rows(frame: pd.DataFrame, columns: list[str]) -> Iterable[list]:
    """Rows of ``frame[columns]`` as Python lists for openpyxl: NaT/NaN/None become empty cells,
    timestamps become ``datetime.date`` (Excel shows them as dates)."""
    cols = []
    for c in columns:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            arr = np.array([None if pd.isna(v) else v.date() for v in s], dtype=object)
        else:
            arr = s.to_numpy(dtype=object)
            arr = np.where(pd.isna(arr), None, arr)
        cols.append(arr)
    return (list(row) for row in zip(*cols, strict=True)) if cols else iter(())
