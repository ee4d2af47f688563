"""Which format a file is in: by extension, sheet names, headings and XML root.

Formats: ``annex-a`` (Ofsted Annex A workbook or one CSV per list), ``cin`` (CIN census
XML), ``903`` (SSDA903 CSV tables or the EXPSSDA903 XML), ``events`` (event log CSV or
Parquet), ``legal`` (legal-department proceedings spreadsheet).

>>> import tempfile
>>> p = Path(tempfile.mkdtemp()) / "episodes.csv"
>>> _ = p.write_text("CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC\\n1,01/01/2020,S,C2,N1,U1,PR1,,\\n")
>>> detect_format(p)
'903'
>>> check_format(p, "cin")
Traceback (most recent call last):
...
cscflow.errors.SourceError: episodes.csv looks like a 903 file, not cin (it has the 903 columns CHILD, DECOM) (hint: load it with --format 903, or leave --format auto)
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from cscflow.errors import SourceError
from cscflow.sources.values import normalise_header, read_text_head

FORMATS: tuple[str, ...] = ("annex-a", "cin", "903", "events", "legal")
#: format -> reader module under cscflow.sources
READERS: dict[str, str] = {
    "annex-a": "annex_a",
    "cin": "cin",
    "903": "ssda903",
    "events": "events",
    "legal": "legal",
}
ALIASES = {"annexa": "annex-a", "annex_a": "annex-a", "ssda903": "903", "903-xml": "903", "event": "events"}

#: Annex A list sheet names: "List 1", "List_1", "L1 Contacts", "List 1 - Contacts", "Contacts (List 1)".
LIST_NAME = re.compile(r"(?:^|[^a-z])(?:list|l)\s*[_\-.]?\s*(\d{1,2})(?:\D|$)", re.IGNORECASE)
_903_TABLE_COLUMNS = (
    {"CHILD", "DECOM"},
    {"CHILD", "SEX", "DOB", "ETHNIC"},
    {"CHILD", "REVIEW"},
    {"CHILD", "IN_TOUCH"},
    {"CHILD", "MISSING"},
    {"CHILD", "DUC"},
    {"CHILD", "DATE_INT"},
    {"CHILD", "DATE_PLACED"},
    {"CHILD", "PREV_PERM"},
    {"CHILD", "SDQ_SCORE"},
    {"CHILD", "SW_ID"},
    {"CHILD", "DOLO_START"},
)
_EVENT_HINTS = {"child id", "stage", "start"}
_LEGAL_HINTS = ("case n", "application", "final order", "court", "proceedings", "care order", "hearing", "issued")
_ANNEX_HINTS = ("child unique id", "date of contact", "date of referral", "assessment start date",
                "cin start date", "child protection plan start date", "date started to be looked after",
                "strategy discussion", "continuous assessment", "eligibility category")


def normalise_format(fmt: str) -> str:
    """A --format value in canonical spelling; unknown values raise SourceError.

    >>> normalise_format("Annex_A"), normalise_format("ssda903")
    ('annex-a', '903')
    """
    f = fmt.strip().lower()
    f = ALIASES.get(f, f)
    if f not in FORMATS and f != "auto":
        raise SourceError(f"unknown format {fmt!r}", hint=f"use one of auto, {', '.join(FORMATS)}")
    return f


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise SourceError(f"{path}: no such file", hint="check the path")
    if path.is_dir():
        raise SourceError(f"{path} is a folder", hint="give the files in it, e.g. folder/*.csv")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name} is empty (0 bytes)", hint="export the file again from the source system")


def xml_root(path: Path) -> str:
    """The name of the first element of an XML file (read from its first bytes; nothing parsed)."""
    text = read_text_head(path, 65536)
    text = re.sub(r"<\?.*?\?>|<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r"<!DOCTYPE[^>[]*(\[.*?\])?\s*>", "", text, flags=re.DOTALL)
    m = re.search(r"<\s*([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)", text)
    if not m:
        raise SourceError(f"{path.name} does not look like XML (no element found)",
                          hint="check the file is the XML return, not a report about it")
    return m.group(2)


def csv_header(path: Path) -> list[str]:
    """The first row of a CSV (sniffed encoding, ',' ';' tab or '|' delimited)."""
    text = read_text_head(path, 65536)
    return _header_row(text.splitlines()[0] if text.splitlines() else "")


def _header_row(first: str) -> list[str]:
    """The cells of a CSV's first line (',' ';' tab or '|' delimited, sniffed)."""
    try:
        delim = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delim = ","
    return next(csv.reader(io.StringIO(first), delimiter=delim), [])


def _gzip_header(path: Path) -> list[str]:
    """The first row of a gzip-compressed CSV (UTF-8, as the event-log reader takes it)."""
    import gzip

    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            first = fh.readline()
    except (OSError, EOFError) as exc:
        raise SourceError(f"{path.name} is not a readable gzip file ({exc})", hint="compress it again, or unzip it") from None
    return _header_row(first.rstrip("\r\n"))


def _format_of_headers(headers: list[str]) -> tuple[str | None, str]:
    raw = {str(h).strip().upper().lstrip("\ufeff") for h in headers}
    for cols in _903_TABLE_COLUMNS:
        if cols <= raw:
            return "903", f"it has the 903 columns {', '.join(sorted(cols, key=['CHILD'].count, reverse=True))}"
    norm = {normalise_header(h) for h in headers}
    if {"child id", "stage", "start"} <= norm or {"childid", "stage", "start"} <= norm:
        return "events", "it has the columns child_id, stage, start"
    if {"case:concept:name", "concept:name", "time:timestamp"} <= {str(h).strip().lower() for h in headers}:
        return "events", "it has the XES / pm4py columns case:concept:name, concept:name, time:timestamp"
    if any(any(h.startswith(a) or a in h for a in _ANNEX_HINTS) for h in norm):
        return "annex-a", "it has Annex A headings"
    if sum(any(k in h for h in norm) for k in _LEGAL_HINTS) >= 2:
        return "legal", "it has care-proceedings headings"
    return None, f"headings found: {', '.join(str(h) for h in headers[:12])}"


def _xlsx_sheets(path: Path) -> tuple[list[str], list[str]]:
    """Sheet names and the first sheet's first row of an xlsx (read-only)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, zlib.error, XML ParseError, KeyError... from a damaged file
        raise SourceError(
            f"{path.name} is not a readable xlsx workbook ({type(exc).__name__}: {str(exc)[:80]})",
            hint="the file may be truncated or not really xlsx: open it in Excel and save it again as .xlsx",
        ) from None
    try:
        names = list(wb.sheetnames)
        first: list[str] = []
        for ws in wb.worksheets[:1]:
            for row in ws.iter_rows(max_row=1, values_only=True):
                first = ["" if v is None else str(v) for v in row]
        return names, first
    except Exception as exc:  # truncated sheet XML inside a valid zip
        raise SourceError(
            f"{path.name} is a damaged xlsx workbook ({type(exc).__name__})",
            hint="open it in Excel and save it again as .xlsx",
        ) from None
    finally:
        wb.close()


def detect_format(path: str | Path) -> str:
    """The format of one file, or SourceError saying what was found and what to do."""
    path = Path(path)
    _check_readable(path)
    ext = path.suffix.lower()
    if ext in (".parquet", ".pq"):
        return "events"
    if ext == ".xml":
        root = xml_root(path)
        if root.upper() == "EXPSSDA903":
            return "903"
        if root == "Message":
            return "cin"
        raise SourceError(f"{path.name}: XML with root <{root}> is neither a CIN census nor an SSDA903 return",
                          hint="CIN census files start with <Message>, SSDA903 XML with <EXPSSDA903>")
    if ext in (".xlsx", ".xlsm"):
        names, first = _xlsx_sheets(path)
        if sum(bool(LIST_NAME.search(n)) for n in names) >= 1 and _format_of_headers(first)[0] not in (
            "legal", "events"
        ):
            return "annex-a"
        fmt, _ = _format_of_headers(first)
        if fmt:
            return fmt
        raise SourceError(f"{path.name}: cannot tell the format (sheets: {', '.join(names[:8])})",
                          hint="give --format annex-a, legal or events")
    if ext == ".gz" and Path(path.stem).suffix.lower() in (".csv", ".txt", ".tsv"):
        fmt, why = _format_of_headers(_gzip_header(path))
        if fmt == "events":  # the event-log reader reads gzip-compressed CSV itself
            return fmt
        raise SourceError(f"{path.name}: a compressed CSV that is not an event log ({why})" if fmt is None else
                          f"{path.name}: a compressed {fmt} file", hint="unzip it first (only event logs are read "
                          "compressed), or give --format events if it is an event log")
    if ext == ".xls":
        raise SourceError(f"{path.name} is an old Excel .xls file", hint="open it in Excel and save it as .xlsx")
    if ext in (".csv", ".txt", ".tsv", ""):
        headers = csv_header(path)
        fmt, why = _format_of_headers(headers)
        if fmt:
            return fmt
        if LIST_NAME.search(path.stem):
            return "annex-a"
        words = {normalise_header(h) for h in headers}
        if "surname" in words and words & {"date of birth", "dob"}:  # names, no stages: the case system's people
            raise SourceError(f"{path.name}: a person list (names and dates of birth), not a file of stays",
                              hint=f"give it to the linkage instead: cscflow link WORKSPACE --people {path.name}")
        raise SourceError(f"{path.name}: cannot tell the format ({why})",
                          hint="give --format annex-a, 903, events or legal (and --mapping for other layouts)")
    raise SourceError(f"{path.name}: unknown file type {ext!r}",
                      hint="cscflow reads .xlsx, .csv, .xml and .parquet files")


def check_format(path: str | Path, fmt: str) -> str:
    """``fmt`` for ``path`` after checking the file is not plainly another format.

    A file given as one format that is recognisably another (a 903 table given as CIN) is
    refused with a message naming both; ``auto`` detects.
    """
    path = Path(path)
    fmt = normalise_format(fmt)
    if fmt == "auto":
        return detect_format(path)
    _check_readable(path)
    try:
        found = detect_format(path)
    except SourceError:
        return fmt  # undetectable layouts are the reader's to judge (e.g. events with a mapping)
    if found != fmt and not (fmt == "events" and found in ("annex-a", "legal")):
        why = ""
        ext = path.suffix.lower()
        if ext in (".csv", ".txt", ".tsv", ""):
            why = " (" + _format_of_headers(csv_header(path))[1] + ")"
        elif ext == ".xml":
            why = f" (its root element is <{xml_root(path)}>)"
        raise SourceError(f"{path.name} looks like a {found} file, not {fmt}{why}",
                          hint=f"load it with --format {found}, or leave --format auto")
    return fmt
