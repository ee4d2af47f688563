"""Parsing shared by every reader: dates, coded values, headers and text encodings.

LA files are messy in the same ways whatever the return: dates as Excel serial
numbers, ``dd/mm/yyyy`` text or ISO strings (often mixed in one column); coded
values with list prefixes (``a) WBRI``); headings that vary in case, spacing and
wording; CSVs saved as cp1252 or UTF-8 with a byte-order mark. The functions here
are vectorised (each distinct value is parsed once) so that large columns stay fast.

>>> parse_dates(pd.Series(["16/09/2020", "2020-09-17", 44092, None])).dt.strftime("%Y-%m-%d").tolist()
['2020-09-16', '2020-09-17', '2020-09-18', nan]
>>> strip_prefix("a) WBRI"), ethnicity_code("k) APKN"), sex_code("b) Female")
('WBRI', 'APKN', 'F')
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cscflow.errors import SourceError

# ----------------------------------------------------------------------------------- dates

#: Excel's day zero (the 1900 date system, including its phantom 29 Feb 1900).
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Serial numbers accepted as Excel dates: 1 Jan 1900 .. 31 Dec 2199.
EXCEL_MIN, EXCEL_MAX = 2, 109_574
#: Text layouts tried in order (UK data: day first): the one list of every reader, the pandas parser
#: (:func:`parse_dates`) and the event-log reader's SQL (:func:`sql_date_formats`).
DATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%Y/%m/%d",
    "%Y%m%d",
)
#: digits only: read as a number (``yyyymmdd`` or an Excel serial, :func:`_from_number`), not a layout
NUMERIC_FORMATS = ("%Y%m%d",)


def sql_date_formats() -> list[str]:
    """:data:`DATE_FORMATS` for DuckDB's ``try_strptime(text, [formats])``, which takes the first that
    reads the text: two-digit years first (DuckDB's ``%Y`` also reads ``20`` as the year 20, Python's
    needs four digits), the digits-only layouts left to the caller's number rule.

    >>> sql_date_formats()[:3]
    ['%d/%m/%y', '%d-%b-%y', '%d/%m/%Y']
    """
    text = [f for f in DATE_FORMATS if f not in NUMERIC_FORMATS]
    return [f for f in text if "%y" in f] + [f for f in text if "%y" not in f]


#: other ISO 8601 forms (with a zone, ...) are read only when they begin with a four-digit year
#: (``pd.Timestamp`` and DuckDB's cast also read ``16/09/20`` as the year 16)
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_BLANKS = frozenset({"", "nan", "nat", "none", "null", "n/a", "#n/a", "na", "-", "--"})
_LONGEST_BLANK = max(map(len, _BLANKS))


def is_blank(value: object) -> bool:
    """True for None, NaN/NaT and blank-looking text ('', 'NULL', '#N/A', ...).

    >>> is_blank(" "), is_blank("#N/A"), is_blank(0)
    (True, True, False)
    """
    if value is None:
        return True
    if type(value) is str:  # the common case first: a cell's text longer than any blank word, not padded
        if len(value) > _LONGEST_BLANK and not value[0].isspace() and not value[-1].isspace():
            return False
        return value.strip().lower() in _BLANKS
    if isinstance(value, float) and np.isnan(value):
        return True
    if value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip().lower() in _BLANKS
    return False


def _parse_one(value: object) -> pd.Timestamp | None:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.tz_localize(None) if value.tzinfo else value
    if isinstance(value, dt.datetime):
        return pd.Timestamp(value.replace(tzinfo=None))
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _from_number(float(value))
    text = str(value).strip().replace("\xa0", " ")
    if _NUMBER.match(text):
        return _from_number(float(text), text)
    for fmt in DATE_FORMATS:
        try:
            return pd.Timestamp(dt.datetime.strptime(text, fmt))
        except ValueError:
            continue
    try:  # ISO 8601 with a zone or other strict ISO forms
        ts = pd.Timestamp(text)
    except (ValueError, OverflowError):
        return None
    if pd.isna(ts) or not ISO_DATE.match(text):
        return None
    return ts.tz_convert(None) if ts.tzinfo else ts


def parse_date_text(value: object) -> pd.Timestamp | None:
    """One value read as :func:`parse_dates` reads a column (any of :data:`DATE_FORMATS`, ISO 8601,
    ``yyyymmdd``, an Excel serial); None when blank or unreadable.

    >>> parse_date_text("16-Sep-2020"), parse_date_text("soon")
    (Timestamp('2020-09-16 00:00:00'), None)
    """
    return None if is_blank(value) else _parse_one(value)


def _from_number(number: float, text: str | None = None) -> pd.Timestamp | None:
    if np.isnan(number):
        return None
    if text is not None and len(text) == 8 and text.isdigit():  # 20200916
        try:
            return pd.Timestamp(dt.datetime.strptime(text, "%Y%m%d"))
        except ValueError:
            return None
    if EXCEL_MIN <= number <= EXCEL_MAX:
        return EXCEL_EPOCH + pd.to_timedelta(number, unit="D").round("s")
    if 19000101 <= number <= 21991231 and float(number).is_integer():
        return _from_number(number, str(int(number)))
    return None


def parse_dates(values: pd.Series | Sequence[object]) -> pd.Series:
    """Parse a column of dates in any of the layouts LA files use; unparseable values become NaT.

    Accepts datetimes, Excel serial numbers (as numbers or text), ``dd/mm/yyyy`` (with or
    without a time), ISO ``yyyy-mm-dd`` (with or without a time), ``dd/mm/yy``,
    ``dd-mm-yyyy``, ``dd.mm.yyyy``, ``16 Sep 2020`` and ``yyyymmdd``, mixed in one column.
    Use :func:`bad_dates` to find the values that were given but could not be read.

    >>> parse_dates(["01/02/2020", "2020-02-01T10:30:00", "1 Feb 2020"]).dt.strftime("%d %b %H:%M").tolist()
    ['01 Feb 00:00', '01 Feb 10:30', '01 Feb 00:00']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s
        return out.astype("datetime64[us]")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    parsed = [None if is_blank(u) else _parse_one(u) for u in uniques]
    arr = np.array(
        [np.datetime64("NaT", "us") if p is None else np.datetime64(p.to_pydatetime(), "us") for p in parsed]
        + [np.datetime64("NaT", "us")],
        dtype="datetime64[us]",
    )
    return pd.Series(arr[codes], index=s.index, name=s.name)  # code -1 picks the trailing NaT


def bad_dates(values: pd.Series, parsed: pd.Series | None = None) -> pd.Series:
    """Boolean mask: a value was given (not blank) but is not a date.

    >>> bad_dates(pd.Series(["01/02/2020", "", "31/02/2020", "soon"])).tolist()
    [False, False, True, True]
    """
    parsed = parse_dates(values) if parsed is None else parsed
    given = ~values.map(is_blank).astype(bool)
    return given & parsed.isna()


def implausible_dates(
    parsed: pd.Series, *, today: dt.date | None = None, earliest: dt.date = dt.date(1900, 1, 1),
    future_days: int = 0,
) -> pd.Series:
    """Per value: None when fine, else why it cannot be right ('future date', 'date before 1900').

    ``future_days`` allows dates that far after ``today`` (e.g. a planned review).

    >>> implausible_dates(parse_dates(["2020-01-01", "2999-01-01", "1850-01-01"]), today=dt.date(2024, 1, 1)).tolist()
    [None, 'future date', 'date before 1900']
    """
    today = today or dt.date.today()
    limit = pd.Timestamp(today) + pd.Timedelta(days=future_days + 1)
    out = pd.Series([None] * len(parsed), index=parsed.index, dtype=object)
    out[(parsed >= limit).to_numpy()] = "future date"
    out[(parsed < pd.Timestamp(earliest)).to_numpy()] = f"date before {earliest.year}"
    return out


# ----------------------------------------------------------------------------- coded values

_PREFIX = re.compile(r"^\s*\(?[a-zA-Z]{1,2}\)\s*")
#: DfE ethnicity codes (CIN census and SSDA903 guidance).
ETHNICITY_CODES: frozenset[str] = frozenset(
    ["WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"]
)
_ETHNIC = re.compile(r"\b(" + "|".join(sorted(ETHNICITY_CODES)) + r")\b")


def strip_prefix(value: object) -> object:
    """Remove an Annex A list prefix such as ``a)`` or ``(b)``; other values are returned trimmed.

    >>> strip_prefix("a) WBRI"), strip_prefix("q) 6: Police"), strip_prefix(12)
    ('WBRI', '6: Police', 12)
    """
    if not isinstance(value, str):
        return value
    return _PREFIX.sub("", value.replace("\xa0", " ")).strip()


def strip_prefixes(values: pd.Series) -> pd.Series:
    """:func:`strip_prefix` over a column (each distinct value once)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([strip_prefix(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, name=values.name)


def leading_code(value: object) -> str | None:
    """The code at the start of a coded value: ``'6: Police'`` -> ``'6'``, ``'E1: Placement order'`` -> ``'E1'``.

    >>> leading_code("q) 6: Police"), leading_code("N1 - Abuse or Neglect"), leading_code("Physical abuse")
    ('6', 'N1', 'Physical abuse')
    """
    if is_blank(value):
        return None
    text = str(strip_prefix(value))
    m = re.match(r"^([A-Za-z]{0,3}\d[A-Za-z0-9]{0,3})\s*[:\-\u2013)]\s*\S", text)
    return m.group(1).upper() if m else text


def ethnicity_code(value: object) -> str | None:
    """The DfE ethnicity code in a value (``'a) WBRI'``, ``'WBRI - White British'``), else the trimmed text.

    >>> ethnicity_code("a) WBRI"), ethnicity_code("White British [WBRI]"), ethnicity_code(None)
    ('WBRI', 'WBRI', None)
    """
    if is_blank(value):
        return None
    text = str(strip_prefix(value)).upper()
    m = _ETHNIC.search(text)
    return m.group(1) if m else text


_SEX = {
    "m": "M", "male": "M", "1": "M", "boy": "M", "1 - male": "M",
    "f": "F", "female": "F", "2": "F", "girl": "F", "2 - female": "F",
}


def sex_code(value: object) -> str:
    """'M', 'F' or 'U' from the ways returns write sex (``1``/``2``, ``a) Male``, ``Female``...).

    >>> sex_code("a) Male"), sex_code(2), sex_code("c) Not stated/recorded"), sex_code(None)
    ('M', 'F', 'U', 'U')
    """
    if is_blank(value):
        return "U"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SEX.get(str(strip_prefix(value)).strip().lower(), "U")


_YES = {"y", "yes", "true", "1", "t"}
_NO = {"n", "no", "false", "0", "f"}


def yes_no(value: object) -> bool | None:
    """True / False / None from Y, Yes, a) Yes, 1, True ... (None when blank or unknown).

    >>> yes_no("a) Yes"), yes_no("N"), yes_no(0), yes_no("maybe")
    (True, False, False, None)
    """
    if is_blank(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(strip_prefix(value)).strip().lower()
    return True if text in _YES else False if text in _NO else None


def map_values(values: pd.Series, func) -> pd.Series:  # type: ignore[no-untyped-def]
    """Apply ``func`` once per distinct value of a column (fast for coded columns)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [func(None)], dtype=object)
    return pd.Series(mapped[codes], index=values.index, name=values.name)


def clean_id(value: object) -> str | None:
    """An id as text: ``9212044.0`` -> ``'9212044'``, trimmed; None when blank.

    >>> clean_id(9212044.0), clean_id(" AB12 "), clean_id("")
    ('9212044', 'AB12', None)
    """
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\xa0", " ").strip() or None


# ---------------------------------------------------------------------------------- headers

_HEADER_SUBS = (
    (re.compile(r"[\u2018\u2019\u201c\u201d'\"`]"), ""),
    (re.compile(r"&"), " and "),
    (re.compile(r"\bno\.(?=\s|$)"), "number "),
    (re.compile(r"\bd\.?o\.?b\.?(?=\s|$)"), "date of birth "),
    (re.compile(r"[^0-9a-z]+"), " "),
)


def normalise_header(header: object) -> str:
    """Lower case, punctuation to spaces, common abbreviations spelt out, spaces collapsed.

    >>> normalise_header("  Date of Adoption Order "), normalise_header("No. of children placed")
    ('date of adoption order', 'number of children placed')
    >>> normalise_header("Child_Unique_ID"), normalise_header("DOB")
    ('child unique id', 'date of birth')
    """
    text = "" if header is None else str(header).replace("\xa0", " ").lower()
    text = text.replace("_", " ")
    for pattern, repl in _HEADER_SUBS:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Candidates most like ``name`` (compared normalised), best first.

    >>> closest("Date of Referal", ["Date of referral", "Referral Source", "Gender"])
    ['Date of referral']
    """
    cands = list(candidates)
    by_norm: dict[str, str] = {}
    for c in cands:
        by_norm.setdefault(normalise_header(c), c)
    hits = difflib.get_close_matches(normalise_header(name), list(by_norm), n=n, cutoff=0.6)
    return [by_norm[h] for h in hits]


def match_headers(
    found: Sequence[object],
    expected: Mapping[str, Sequence[str]],
    *,
    required: Iterable[str] = (),
    where: str = "",
) -> dict[str, int]:
    """Match found headings to expected fields: ``{field: column index}``.

    ``expected`` maps each field to patterns: plain headings (compared normalised) and
    regular expressions written ``/.../`` (searched in the normalised heading). The
    first pattern that matches an unclaimed column wins; exact headings are tried
    before regular expressions. A missing ``required`` field raises
    :class:`~cscflow.errors.SourceError` listing the columns found, those expected
    and the closest matches.

    >>> match_headers(["Child ID", "Date of Referral"], {"child_id": ["/child.*id/"], "start": ["date of referral"]})
    {'start': 1, 'child_id': 0}
    """
    norm = [normalise_header(h) for h in found]
    claimed: dict[int, str] = {}
    out: dict[str, int] = {}
    plain = {f: [normalise_header(p) for p in pats if not _is_regex(p)] for f, pats in expected.items()}
    regex = {f: [re.compile(p.strip("/")) for p in pats if _is_regex(p)] for f, pats in expected.items()}
    for field, names in plain.items():
        for i, h in enumerate(norm):
            if i not in claimed and h and h in names:
                out[field], claimed[i] = i, field
                break
    for field, pats in regex.items():
        if field in out:
            continue
        for i, h in enumerate(norm):
            if i not in claimed and h and any(p.search(h) for p in pats):
                out[field], claimed[i] = i, field
                break
    missing = [f for f in required if f not in out]
    if missing:
        raise missing_columns_error(missing, found, expected, where)
    return out


def _is_regex(pattern: str) -> bool:
    return len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/")


def missing_columns_error(
    missing: Sequence[str], found: Sequence[object], expected: Mapping[str, Sequence[str]], where: str
) -> SourceError:
    """A one-line SourceError: which fields are missing, the columns found, the closest matches."""
    found_txt = [str(h) for h in found if not is_blank(h)]
    parts = []
    for f in missing:
        plain = [p for p in expected.get(f, [f]) if not _is_regex(p)] or [f]
        near = closest(plain[0], found_txt) or closest(f, found_txt)
        parts.append(f"'{plain[0]}'" + (f" (closest: {', '.join(repr(n) for n in near)})" if near else ""))
    shown = ", ".join(repr(h) for h in found_txt[:25]) + (" ..." if len(found_txt) > 25 else "")
    return SourceError(
        f"{where}: missing required column(s) {'; '.join(parts)}; columns found: {shown or 'none'}",
        hint="rename the column(s) to the expected heading, or give a --mapping file",
    )


# -------------------------------------------------------------------------------- encodings


def sniff_encoding(path: str | Path, sample: int = 4 << 20) -> str:
    """The text encoding of a CSV: 'utf-8-sig' (BOM), 'utf-16', 'utf-8' or 'cp1252'.

    The first ``sample`` bytes are checked; a file that is not valid UTF-8 there is
    read as cp1252 (Windows Excel's "CSV" save), the usual alternative in LA files.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.csv"; _ = p.write_bytes("Caf\\xe9".encode("cp1252"))
    >>> sniff_encoding(p)
    'cp1252'
    """
    with open(path, "rb") as fh:
        head = fh.read(sample)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # a multi-byte character cut at the sample end is fine unless the whole file was read
        decoder.decode(head, final=len(head) < sample)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def read_text_head(path: str | Path, n_bytes: int = 65536) -> str:
    """The first ``n_bytes`` of a text file, decoded with its sniffed encoding (bad bytes replaced)."""
    enc = sniff_encoding(path)
    with open(path, "rb") as fh:
        raw = fh.read(n_bytes)
    return raw.decode(enc, errors="replace")
