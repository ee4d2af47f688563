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
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cscflow.errors import CscflowError
from cscflow.synth.county import County

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


def children_frame(county: County) -> pd.DataFrame:
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


def parse_attrs(values: Iterable[Any], keys: Iterable[str]) -> dict[str, list[Any]]:
    """Parse JSON ``attrs`` texts (or dicts, or None) into one list per key (None when absent).

    Each distinct text is parsed once (attrs repeat a lot: they hold codes).

    >>> parse_attrs(['{"rne": "S"}', None], ["rne", "ls"])
    {'rne': ['S', None], 'ls': [None, None]}
    """
    keys = list(keys)
    values = list(values)
    texts = [v if isinstance(v, str) else "" for v in values]
    codes, uniques = pd.factorize(pd.Series(texts, dtype=object))
    parsed = []
    for raw in uniques:
        try:
            parsed.append(json.loads(raw) if raw else {})
        except ValueError as exc:
            raise WriterError(f"journeys.attrs is not JSON: {raw[:60]!r}", hint="write attrs as JSON") from exc
    table = {k: np.array([obj.get(k) if isinstance(obj, dict) else None for obj in parsed] + [None], dtype=object)
             for k in keys}
    out = {k: list(table[k][codes]) for k in keys}  # code -1 (none) picks the trailing None
    dicts = [i for i, v in enumerate(values) if isinstance(v, dict)]
    for i in dicts:
        for k in keys:
            out[k][i] = values[i].get(k)
    return out


def stage_frame(county: County, stage: str, keys: Iterable[str] = (), *, start: Any = None,
                end: Any = None) -> pd.DataFrame:
    """Stays of one stage (optionally only those overlapping [start, end]) with attrs keys as columns.

    Sorted by child, start and need so that every writer sees the same order.
    """
    j = county.journeys
    keys = list(keys)
    cache_key = (stage, tuple(keys))
    cache = _stage_cache(j)
    whole = start is None and end is None
    if cache_key in cache:
        frame = cache[cache_key]
        return frame.copy(deep=False) if whole else frame.loc[overlaps(frame, start, end)].reset_index(drop=True)
    if (stage, ()) in cache:
        frame = cache[(stage, ())]
    else:
        frame = j.take(cache["_rows"].get(stage, np.empty(0, dtype=np.int64)))
        frame = frame.assign(start=pd.to_datetime(frame["start"]), end=pd.to_datetime(frame["end"]))
        frame = frame.sort_values(["child_id", "start", "need_id"], kind="mergesort", na_position="first")
        frame = frame.reset_index(drop=True)
        for col in ("team", "worker"):
            if col not in frame:
                frame[col] = None
        cache[(stage, ())] = frame
    frame = frame.copy(deep=False) if whole else frame.loc[overlaps(frame, start, end)].reset_index(drop=True)
    if keys:
        attrs = frame["attrs"] if "attrs" in frame else [None] * len(frame)
        for k, vals in parse_attrs(attrs, keys).items():
            frame[k] = pd.Series(vals, index=frame.index, dtype=object)
    if whole:
        cache[cache_key] = frame
        return frame.copy(deep=False)
    return frame


_CACHE: dict[Any, Any] = {}


def _stage_cache(journeys: pd.DataFrame) -> dict[Any, Any]:
    """Per journeys frame (the last one seen): row positions by stage and whole-stage frames."""
    if _CACHE.get("journeys") is not journeys:
        check_columns(journeys, ("child_id", "need_id", "stage", "start", "end", "outcome"), "journeys")
        _CACHE.clear()
        _CACHE["journeys"] = journeys
        codes, uniques = pd.factorize(journeys["stage"])
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        _CACHE["frames"] = {"_rows": {u: order[bounds[i]:bounds[i + 1]] for i, u in enumerate(uniques)}}
    frames: dict[Any, Any] = _CACHE["frames"]
    return frames


def overlaps(frame: pd.DataFrame, start: Any, end: Any) -> np.ndarray:
    """Rows whose [start, end] meets the window [start, end] (an open end never stops)."""
    s = frame["start"].dt.normalize()
    e = frame["end"].dt.normalize()
    mask = np.ones(len(frame), dtype=bool)
    if end is not None:
        mask &= (s <= pd.Timestamp(end)).to_numpy()
    if start is not None:
        mask &= (e.isna() | (e >= pd.Timestamp(start))).to_numpy()
    return mask


_ADOPTED = {"E11", "E12"}
_SGO = {"E43", "E44", "E45", "E46", "E47", "E48"}
_CAO = {"E41"}


def need_closures(county: County) -> pd.DataFrame:
    """Per need (index): ``closed`` (NaT while any stay is open), ``reason`` (CIN census RC code), and
    ``last_stage`` / ``last_outcome`` (the stay that closed it, or the latest one). Cached per County."""
    cache = _stage_cache(county.journeys)
    if "_closures" not in cache:
        cache["_closures"] = _need_closures(county)
    return cache["_closures"].copy()


def _need_closures(county: County) -> pd.DataFrame:
    j = county.journeys
    j = j.loc[j["stage"].isin(NEED_STAGES) & j["need_id"].notna()]
    j = j.assign(end=pd.to_datetime(j["end"]), start=pd.to_datetime(j["start"]))
    j = j.sort_values(["need_id", "end", "start"], kind="mergesort", na_position="last")
    last = j.groupby("need_id", sort=False).tail(1).set_index("need_id")
    open_need = j["end"].isna().groupby(j["need_id"]).any()
    out = pd.DataFrame(index=last.index)
    out["closed"] = last["end"].where(~open_need.reindex(last.index).to_numpy())
    la = stage_frame(county, "looked_after", ["rec"])
    la = la.loc[la["need_id"].notna()].drop_duplicates(["need_id", "end"], keep="last")
    recs = pd.Series(la["rec"].to_numpy(), index=pd.MultiIndex.from_arrays([la["need_id"], la["end"]]))
    keys = pd.MultiIndex.from_arrays([last.index, last["end"]])
    rec_of = recs.reindex(keys).to_numpy()
    rec_of = np.where(last["stage"].to_numpy() == "looked_after", rec_of, None)
    reasons = [_reason(stage, outcome, rec if isinstance(rec, str) else None)
               for stage, outcome, rec in zip(last["stage"], last["outcome"], rec_of, strict=True)]
    out["reason"] = reasons
    out["last_stage"] = last["stage"]
    out["last_outcome"] = last["outcome"]
    out.loc[out["closed"].isna(), "reason"] = None
    return out


def _reason(stage: str, outcome: object, rec: object) -> str:
    if rec in _ADOPTED:
        return "RC1"
    if rec in _SGO:
        return "RC4"
    if rec in _CAO:
        return "RC3"
    if outcome == "step_down_early_help":
        return "RC9"
    if outcome == "nfa" and stage in ("referral", "assessment", "strategy_discussion", "s47", "icpc"):
        return "RC8"
    return "RC7"


def dmy(values: Any) -> np.ndarray:
    """Dates as 'dd/mm/yyyy' text, '' for missing (vectorised).

    >>> list(dmy(pd.Series(pd.to_datetime(["2017-03-05", None]))))
    ['05/03/2017', '']
    """
    s = pd.Series(pd.to_datetime(values))
    text: np.ndarray = s.dt.strftime("%d/%m/%Y").fillna("").to_numpy(dtype=object)
    return text


def iso(values: Any) -> np.ndarray:
    """Dates as 'yyyy-mm-dd' text, '' for missing (vectorised)."""
    s = pd.Series(pd.to_datetime(values))
    text: np.ndarray = s.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)
    return text


def age_years(birth: pd.Series, on: pd.Timestamp | pd.Series) -> np.ndarray:
    """Whole years of age on a date (vectorised; NaN where the birth date is missing)."""
    b = pd.to_datetime(birth)
    o = pd.to_datetime(on) if isinstance(on, pd.Series) else pd.Series(pd.Timestamp(on), index=b.index)
    years = o.dt.year - b.dt.year
    before = (o.dt.month < b.dt.month) | ((o.dt.month == b.dt.month) & (o.dt.day < b.dt.day))
    ages: np.ndarray = (years - before.astype(int)).to_numpy(dtype=float)
    return ages


def add_years(ts: pd.Timestamp, years: int) -> pd.Timestamp:
    """Same day ``years`` later (29 February becomes 28 February)."""
    try:
        return ts.replace(year=ts.year + years)
    except ValueError:
        return ts.replace(year=ts.year + years, day=28)


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile whose entries all carry one fixed time, so xlsx files are byte-identical."""

    def __init__(self, path: str | Path, stamp: tuple[int, int, int, int, int, int], compresslevel: int = 6) -> None:
        super().__init__(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._stamp = stamp
        self._level = compresslevel

    def writestr(self, zinfo_or_arcname: str | zipfile.ZipInfo, data: Any, compress_type: int | None = None,
                 compresslevel: int | None = None) -> None:
        name = zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo) else zinfo_or_arcname
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        super().writestr(info, data, compresslevel=self._level)

    def write(self, filename: str | PathLike[str], arcname: str | PathLike[str] | None = None,
              compress_type: int | None = None, compresslevel: int | None = None) -> None:
        info = zipfile.ZipInfo(str(arcname or filename), date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        with open(filename, "rb") as src, self.open(info, "w", force_zip64=True) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)


def save_workbook(wb: Any, path: Path, when: dt.date) -> Path:
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


def excel_rows(frame: pd.DataFrame, columns: list[str]) -> Iterable[list[Any]]:
    """Rows of ``frame[columns]`` as Python lists for openpyxl: NaT/NaN/None become empty cells,
    timestamps become ``datetime.date`` (Excel shows them as dates)."""
    cols = []
    for c in columns:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            arr = np.array([None if pd.isna(v) else v.date() for v in s], dtype=object)
        else:
            arr = s.to_numpy(dtype=object, copy=True)
            arr[pd.isna(arr)] = None
        cols.append(arr)
    return (list(row) for row in zip(*cols, strict=True)) if cols else iter(())


# ----------------------------------------------------------------------------------------------
# A small, fast xlsx writer: openpyxl's write-only mode costs ~10 us a cell on this machine, too slow
# for a county's year of contacts, so sheets are rendered column-wise into SpreadsheetML here
# (inline strings, dates as serial numbers with a dd/mm/yyyy style). Files open in Excel,
# LibreOffice, openpyxl and pandas.

_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "{sheets}</Types>"
)
_SHEET_CT = ('<Override PartName="/xl/worksheets/sheet{i}.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'extended-properties" Target="docProps/app.xml"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
_EPOCH = np.datetime64("1899-12-30", "D")


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _xml_escape(values: pd.Series) -> pd.Series:
    if values.str.contains(r"[&<>]", regex=True).any():
        values = values.str.replace("&", "&amp;").str.replace("<", "&lt;").str.replace(">", "&gt;")
    return values


def _render_column(col: pd.Series, letter: str, rows: np.ndarray) -> np.ndarray:
    """One column's cells as SpreadsheetML text ('' for an empty cell)."""
    ref = np.char.add(f'<c r="{letter}', rows).astype(object)
    n = len(col)
    out = np.full(n, "", dtype=object)
    if pd.api.types.is_datetime64_any_dtype(col):
        days = (col.to_numpy(dtype="datetime64[D]") - _EPOCH).astype("int64")
        ok = col.notna().to_numpy()
        out[ok] = ref[ok] + '" s="1"><v>' + days[ok].astype(str).astype(object) + "</v></c>"
        return out
    if pd.api.types.is_bool_dtype(col):
        col = col.map({True: "Yes", False: "No"})
    if pd.api.types.is_numeric_dtype(col):
        ok = col.notna().to_numpy()
        vals = col[ok]
        text = vals.astype("int64").astype(str) if (vals % 1 == 0).all() else vals.astype(str)
        out[ok] = ref[ok] + '"><v>' + text.to_numpy(dtype=object) + "</v></c>"
        return out
    mask = (col.notna() & col.ne("")).to_numpy()
    vals = col[mask]
    if len(vals):
        mixed = vals.map(lambda v: isinstance(v, dt.date))
        if mixed.any():  # python dates in an object column
            col = col.where(~col.map(lambda v: isinstance(v, dt.date)), None)
            dates = pd.to_datetime(vals[mixed.to_numpy()])
            idx = np.flatnonzero(mask)[mixed.to_numpy()]
            days = (dates.to_numpy(dtype="datetime64[D]") - _EPOCH).astype("int64")
            out[idx] = ref[idx] + '" s="1"><v>' + days.astype(str).astype(object) + "</v></c>"
            mask = (col.notna() & col.ne("")).to_numpy()
            vals = col[mask]
        text = _xml_escape(vals.astype(str))
        out[mask] = ref[mask] + '" t="inlineStr"><is><t>' + text.to_numpy(dtype=object) + "</t></is></c>"
    return out


def _sheet_xml(headers: list[str], frame: pd.DataFrame) -> bytes:
    n = len(frame)
    rows = np.arange(2, n + 2).astype(str)
    head = "".join(
        f'<c r="{_col_letter(i)}1" s="2" t="inlineStr"><is><t>{_xml_escape(pd.Series([h])).iloc[0]}</t></is></c>'
        for i, h in enumerate(headers)
    )
    cols = [_render_column(frame[h].reset_index(drop=True), _col_letter(i), rows) for i, h in enumerate(headers)]
    if cols:
        body = cols[0].copy()
        for c in cols[1:]:
            body = body + c
    else:
        body = np.full(n, "", dtype=object)
    row_open = np.char.add(np.char.add('<row r="', rows), '">').astype(object)
    lines = row_open + body + "</row>"
    last = _col_letter(max(len(headers) - 1, 0))
    text = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}{n + 1}"/><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f'<sheetData><row r="1">{head}</row>' + "".join(lines) + "</sheetData></worksheet>"
    )
    return text.encode("utf-8")


def write_xlsx(path: Path, sheets: list[tuple[str, list[str], pd.DataFrame]], when: dt.date,
               title: str = "cscflow synthetic county") -> Path:
    """Write a workbook with one sheet per (name, headers, frame); deterministic bytes.

    Column types follow the frame: datetime64 -> dates (dd/mm/yyyy), numbers -> numbers,
    anything else -> text; missing values -> empty cells.

    >>> import tempfile
    >>> p = write_xlsx(Path(tempfile.mkdtemp()) / "t.xlsx",
    ...                [("List 1", ["id", "when"], pd.DataFrame({"id": ["a"], "when": pd.to_datetime(["2017-05-01"])}))],
    ...                dt.date(2018, 3, 31))
    >>> import openpyxl; ws = openpyxl.load_workbook(p)["List 1"]; [c.value for c in ws[2]]
    ['a', datetime.datetime(2017, 5, 1, 0, 0)]
    """
    from xml.sax.saxutils import escape

    stamp = (when.year, when.month, when.day, 12, 0, 0)
    iso_when = f"{when.isoformat()}T12:00:00Z"
    names = [escape(name) for name, _, _ in sheets]
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1))
        + "</sheets></workbook>"
    )
    wb_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(names) + 1))
        + f'<Relationship Id="rId{len(names) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'
    )
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>cscflow</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{iso_when}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{iso_when}</dcterms:modified></cp:coreProperties>'
    )
    app = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>cscflow</Application></Properties>"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _FixedTimeZip(path, stamp, compresslevel=1) as z:
        z.writestr("[Content_Types].xml",
                   _CT.format(sheets="".join(_SHEET_CT.format(i=i) for i in range(1, len(names) + 1))))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("docProps/core.xml", core)
        z.writestr("docProps/app.xml", app)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        z.writestr("xl/styles.xml", _STYLES)
        for i, (_, headers, frame) in enumerate(sheets, 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", _sheet_xml(headers, frame))
    return path
