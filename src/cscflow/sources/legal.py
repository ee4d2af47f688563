"""Legal-department care-proceedings spreadsheets (xlsx or CSV) into ``proceedings``.

Legal teams keep their own trackers: one row per child per set of proceedings, with the
court case number, the child's name and date of birth, the application (issue) date, the
final order and its date, the court. Headings vary, so they are matched by pattern. Names
and dates of birth go to the restricted ``identifiers`` table (for linkage); ``child_id`` stays
empty unless the sheet carries the LA child id. Other columns are kept in ``attrs``.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "legal.csv"
>>> _ = p.write_text("Case No,Child Surname,Child Forename,DOB,Date Issued,Final Order,Final Order Date\\n"
...                  "ZW24C1,Smith,Amy,01/02/2015,03/04/2024,Care Order,05/10/2024\\n")
>>> r = read([p])[0]
>>> r.proceedings[["order", "court"]].values.tolist(), r.rows_loaded
([['care_order', None]], 1)
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from cscflow.errors import SourceError
from cscflow.sources.annex_a import _csv_sheet, _xlsx_sheets
from cscflow.sources.base import ReadResult, source_name
from cscflow.sources.values import (
    bad_dates,
    clean_id,
    implausible_dates,
    is_blank,
    map_values,
    match_headers,
    normalise_header,
    parse_dates,
)

FORMAT = "legal"
FIELDS: dict[str, list[str]] = {
    "case_number": ["case number", "case no", "/case (no|number|ref)/", "court reference", "/court ref/"],
    "child_id": ["/^(la )?child (unique )?id/", "/(person|client) id/", "child id"],
    "surname": ["surname", "/child.*surname/", "/(last|family) name/"],
    "forenames": ["forenames", "forename", "/child.*fore ?names?/", "/first names?/", "/given names?/"],
    "full_name": ["child name", "name", "/child.*name/"],
    "birth_date": ["date of birth", "/date of birth/", "/\\bdob\\b/", "/birth/"],
    "application_date": ["/application.*date/", "/date.*(application|issued?)/", "/issue.*date/",
                         "date issued", "issued"],
    "final_order_date": ["/final order.*date/", "/date.*final/", "/conclu.*date/", "/final hearing/"],
    "order": ["final order", "/final order( type)?$/", "/order (type|made)/", "order"],
    "court": ["court", "/court$/", "/^court name/"],
}
REQUIRED = ("application_date",)
#: Final order text -> order code (keywords, first match wins).
ORDERS: tuple[tuple[str, str], ...] = (
    (r"placement order", "placement_order"),
    (r"special guardian|\bsgo\b", "sgo"),
    (r"supervision|\bso\b", "supervision_order"),
    (r"child arrangement|residence|\bcao\b|\bro\b", "cao"),
    (r"care order|\bco\b|\bfco\b", "care_order"),
    (r"no order|withdrawn|dismissed|refused", "no_order"),
)


def order_code(value: object) -> str | None:
    """A final order's text as an order code.

    >>> order_code("Full Care Order"), order_code("SGO + SO"), order_code("Withdrawn"), order_code(None)
    ('care_order', 'sgo', 'no_order', None)
    """
    if is_blank(value):
        return None
    text = str(value).lower()
    for pattern, code in ORDERS:
        if re.search(pattern, text):
            return code
    return text.strip()


def read(paths: list[Path], **_: Any) -> list[ReadResult]:
    """Read legal-department spreadsheets: one :class:`ReadResult` per file (the first sheet with headings)."""
    return [read_one(Path(p)) for p in paths]


def _header(rows: list[tuple[Any, ...]]) -> int | None:
    for i, row in enumerate(rows[:15]):
        norm = [normalise_header(v) for v in row if not is_blank(v)]
        if sum(any(k in h for h in norm) for k in ("date", "name", "case", "order", "court", "birth")) >= 2:
            return i
    return None


def read_one(path: Path, today: dt.date | None = None) -> ReadResult:
    """Read one legal spreadsheet."""
    if not path.exists():
        raise SourceError(f"{path}: no such file", hint="check the path")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name} is empty (0 bytes)", hint="export the tracker again")
    today = today or dt.date.today()
    sheets = _xlsx_sheets(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_sheet(path)
    for sh in sheets:
        h = _header(sh.rows)
        if h is not None:
            break
    else:
        raise SourceError(f"{path.name}: no heading row found", hint="the first rows must name the columns "
                          "(case number, child's name, date of birth, application date, final order...)")
    headers = ["" if v is None else str(v) for v in sh.rows[h]]
    found = match_headers(headers, FIELDS, required=REQUIRED, where=f"{path.name} sheet {sh.name!r}")
    width = len(headers)
    data = [(i + h + 2, r) for i, r in enumerate(sh.rows[h + 1:]) if any(not is_blank(v) for v in r)]
    frame = pd.DataFrame([tuple(r[:width]) + (None,) * (width - len(r)) for _, r in data],
                         columns=[f"c{i}" for i in range(width)], dtype=object)
    res = ReadResult(source=source_name(path), format=FORMAT, rows_read=len(frame))
    if frame.empty:
        return res
    rows = pd.Series(range(1, len(frame) + 1), index=frame.index)
    col = {f: frame[f"c{i}"] for f, i in found.items()}
    q: list[dict[str, Any]] = []
    ok = pd.Series(True, index=frame.index)
    dates = {}
    for f in ("application_date", "final_order_date", "birth_date"):
        if f not in col:
            continue
        parsed = parse_dates(col[f])
        bad = bad_dates(col[f], parsed)
        why = implausible_dates(parsed, today=today)
        for i in frame.index[bad]:
            q.append(_q(rows[i], headers[found[f]], col[f][i], "not a date", "write dates as dd/mm/yyyy"))
        for i in frame.index[why.notna()]:
            q.append(_q(rows[i], headers[found[f]], col[f][i], why[i], "check the date"))
        ok &= ~bad & why.isna()
        dates[f] = parsed
    missing = dates["application_date"].isna() & ~bad_dates(col["application_date"], dates["application_date"])
    for i in frame.index[missing]:
        q.append(_q(rows[i], headers[found["application_date"]], None, "missing application date",
                    "every set of proceedings needs its application (issue) date"))
    ok &= ~missing
    dup = frame.astype(str).duplicated(keep="first")
    for i in frame.index[dup & ok]:
        q.append(_q(rows[i], "", None, "duplicate row", "the row repeats an earlier row; nothing to do"))
    ok &= ~dup
    good = frame.index[ok]
    used = set(found.values())
    extra = {normalise_header(headers[i]).replace(" ", "_") or f"column_{i + 1}": frame[f"c{i}"]
             for i in range(width) if i not in used}
    surname, forenames = _names(col, good)
    res.proceedings = pd.DataFrame({
        "proceedings_key": [str(rows[i]) for i in good],
        "source_child_id": map_values(col["child_id"][good], clean_id).tolist() if "child_id" in col else None,
        "application_date": dates["application_date"][good].tolist(),
        "final_order_date": dates["final_order_date"][good].tolist() if "final_order_date" in dates else None,
        "order": map_values(col["order"][good], order_code).tolist() if "order" in col else None,
        "court": [None if is_blank(v) else str(v).strip() for v in col["court"][good]] if "court" in col else None,
        "attrs": [
            {k: (v[i].isoformat()[:10] if isinstance(v[i], (dt.date, dt.datetime)) else v[i])
             for k, v in {**extra, **({"case_number": col["case_number"]} if "case_number" in col else {})}.items()
             if not is_blank(v[i])} or None
            for i in good
        ],
        "source_row": [int(rows[i]) for i in good],
        "surname": surname,
        "forenames": forenames,
        "birth_date": dates["birth_date"][good].tolist() if "birth_date" in dates else None,
    })
    res.rows_loaded = len(good)
    if q:
        res.quarantine = pd.DataFrame(q)
    return res


def _names(col: dict[str, Any], good: pd.Index) -> tuple[list[Any], list[Any]]:
    def txt(s: pd.Series) -> list[Any]:
        return [None if is_blank(v) else str(v).strip() for v in s[good]]

    surname = txt(col["surname"]) if "surname" in col else [None] * len(good)
    forenames = txt(col["forenames"]) if "forenames" in col else [None] * len(good)
    if "full_name" in col and "surname" not in col:
        for k, v in enumerate(txt(col["full_name"])):
            if v:
                parts = v.replace(",", " ").split() if "," not in v else [p.strip() for p in v.split(",")][::-1]
                surname[k] = parts[-1] if parts else None
                forenames[k] = forenames[k] or (" ".join(parts[:-1]) or None)
    return surname, forenames


def _q(row: int, column: str, value: object, problem: str, hint: str) -> dict[str, Any]:
    return {"source_row": int(row), "column": column, "value": None if is_blank(value) else str(value)[:200],
            "problem": problem, "hint": hint}
