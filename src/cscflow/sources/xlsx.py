"""Read the cell values of an xlsx workbook fast.

What ``openpyxl.load_workbook(read_only=True, data_only=True)`` gives row by row, faster: with
``python-calamine`` (Rust, about 20 times faster) when it is installed, else by streaming the sheet
XML with lxml (about twice as fast). Values: shared and inline strings, numbers, booleans, error codes, formula cells by their
cached values, and date-formatted numbers as :class:`datetime.datetime` (1900 or 1904 base).
Gaps between rows are kept as empty rows, so list positions are Excel row numbers minus one.
The XML is parsed safely (no entities, no DTD, no network).

>>> import tempfile, pathlib, openpyxl, datetime
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.xlsx"
>>> wb = openpyxl.Workbook(); ws = wb.active; ws.title = "List 1"
>>> ws.append(["id", "date", "n"]); ws.append(["C1", datetime.datetime(2020, 1, 2), 3]); wb.save(p)
>>> read_sheets(p) == read_sheets(p, engine="lxml")
True
>>> [(name, rows) for name, rows in read_sheets(p)]
[('List 1', [('id', 'date', 'n'), ('C1', datetime.datetime(2020, 1, 2, 0, 0), 3)])]
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
#: Built-in number formats that are dates or times (ECMA-376 18.8.30).
_DATE_IDS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def _xml(zf: zipfile.ZipFile, name: str) -> etree._Element | None:
    if name not in zf.namelist():
        return None
    return etree.fromstring(zf.read(name), _parser())


def _is_date_format(code: str) -> bool:
    code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.', "", code.split(";")[0])
    return bool(re.search(r"[dmyhs]", code, re.IGNORECASE)) and not re.fullmatch(r"[#0.,%E+\-\s]*", code)


def _column(ref: str, cache: dict[str, int]) -> int:
    """0-based column of a cell reference such as 'AB12'."""
    letters = ref.rstrip("0123456789")
    idx = cache.get(letters)
    if idx is None:
        idx = 0
        for ch in letters:
            idx = idx * 26 + (ord(ch) - 64)
        cache[letters] = idx = idx - 1
    return idx


def _to_datetime(epoch: dt.datetime, serial: float) -> dt.datetime | float:
    """An Excel serial day number as a datetime (to the second); out-of-range numbers unchanged."""
    try:
        val = epoch + dt.timedelta(days=serial)
    except OverflowError:
        return serial
    if val.microsecond:
        val = val.replace(microsecond=0) + dt.timedelta(seconds=round(val.microsecond / 1e6))
    return val


class Workbook:
    """An open xlsx: sheet names, shared strings and date styles (sheets read on demand)."""

    def __init__(self, path: str | Path) -> None:
        self.zf = zipfile.ZipFile(path)
        book = _xml(self.zf, "xl/workbook.xml")
        if book is None:
            raise KeyError("xl/workbook.xml")
        rels = _xml(self.zf, "xl/_rels/workbook.xml.rels")
        targets = {r.get("Id"): r.get("Target") for r in (rels.iter(_PKG_REL) if rels is not None else [])}
        self.sheets: list[tuple[str, str]] = []
        for s in book.iter(f"{_NS}sheet"):
            target = targets.get(s.get(_REL), "")
            path_in_zip = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            self.sheets.append((s.get("name"), path_in_zip))
        pr = book.find(f"{_NS}workbookPr")
        self.epoch = _EPOCH_1904 if pr is not None and pr.get("date1904") in ("1", "true") else _EPOCH_1900
        self.strings: list[str] = []
        sst = _xml(self.zf, "xl/sharedStrings.xml")
        if sst is not None:
            for si in sst.iter(f"{_NS}si"):
                self.strings.append("".join(t.text or "" for t in si.iter(f"{_NS}t")
                                            if t.getparent().tag != f"{_NS}rPh"))
        self.date_styles: set[int] = set()
        styles = _xml(self.zf, "xl/styles.xml")
        if styles is not None:
            custom = {int(f.get("numFmtId")): f.get("formatCode") or "" for f in styles.iter(f"{_NS}numFmt")}
            xfs = styles.find(f"{_NS}cellXfs")
            for i, xf in enumerate(xfs if xfs is not None else []):
                fid = int(xf.get("numFmtId") or 0)
                if fid in _DATE_IDS or (fid in custom and _is_date_format(custom[fid])):
                    self.date_styles.add(i)

    def rows(self, member: str) -> Iterator[tuple[Any, ...]]:
        """The rows of one sheet (by its path in the zip) as tuples of values."""
        strings, dates, epoch = self.strings, self.date_styles, self.epoch
        cache: dict[str, int] = {}
        c_tag, v_tag, is_tag, t_tag = f"{_NS}c", f"{_NS}v", f"{_NS}is", f"{_NS}t"
        expect = 1
        with self.zf.open(member) as fh:
            for _, row in etree.iterparse(fh, events=("end",), tag=f"{_NS}row", resolve_entities=False,
                                          no_network=True, load_dtd=False, huge_tree=True):
                r = row.get("r")
                number = int(r) if r else expect
                while expect < number:
                    yield ()
                    expect += 1
                expect = number + 1
                values: list[Any] = []
                for c in row.iter(c_tag):
                    ref = c.get("r")
                    if ref:
                        col = _column(ref, cache)
                        if col > len(values):
                            values.extend([None] * (col - len(values)))
                    typ = c.get("t")
                    val: Any
                    if typ == "inlineStr":
                        node = c.find(is_tag)
                        val = None if node is None else "".join(t.text or "" for t in node.iter(t_tag))
                    else:
                        v = c.find(v_tag)
                        text = None if v is None else v.text
                        if text is None:
                            val = None
                        elif typ == "s":
                            val = strings[int(text)]
                        elif typ in ("str", "e"):
                            val = text
                        elif typ == "b":
                            val = text == "1"
                        elif typ == "d":
                            val = dt.datetime.fromisoformat(text.rstrip("Z"))
                        else:
                            val = float(text) if any(ch in text for ch in ".eE") else int(text)
                            s = c.get("s")
                            if s and int(s) in dates:
                                val = _to_datetime(epoch, val)
                    values.append(val)
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]
                yield tuple(values)

    def close(self) -> None:
        self.zf.close()


def _tidy(row: list[Any]) -> tuple[Any, ...]:
    """calamine's values as openpyxl gives them: blank as None, whole numbers as int, dates as datetime."""
    out = []
    for v in row:
        t = type(v)
        if t is str:
            out.append(v if v else None)
        elif t is float:
            out.append(int(v) if v.is_integer() else v)
        elif t is dt.date:
            out.append(dt.datetime(v.year, v.month, v.day))
        else:
            out.append(v)
    return tuple(out)


def _calamine_sheets(path: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    try:
        return [(name, [_tidy(r) for r in wb.get_sheet_by_name(name).to_python(skip_empty_area=False)])
                for name in wb.sheet_names]
    finally:
        close = getattr(wb, "close", None)
        if close:
            close()


def read_sheets(path: str | Path, engine: str = "auto") -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every sheet of a workbook: (name, rows). ``engine``: 'auto' (calamine, a dependency), 'lxml'."""
    if engine == "auto":
        return _calamine_sheets(Path(path))
    wb = Workbook(path)
    try:
        return [(name, list(wb.rows(member))) for name, member in wb.sheets]
    finally:
        wb.close()
