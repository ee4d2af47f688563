"""Column-wise checks and stays for the CIN census reader (:mod:`cscflow.sources.cin`).

The stream reader only copies element texts into :class:`CinTables` (one list per
column); everything else happens here, once per file, on whole columns: each distinct
date text is parsed once, problems are found with array masks, and a stay's next step is
the earliest later step of the same episode of need, found with one merge per stage.
The rules are those of docs/data-model.md (see :mod:`cscflow.sources.cin`).

:func:`cscflow.sources.cin.build.build` puts the checks, the stays and the frames together.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cscflow.model.codes import closure_exits, sex_codes
from cscflow.sources.base import EPISODE_COLUMNS, QUARANTINE_COLUMNS
from cscflow.sources.cin.stream import parse_date

#: GenderCurrent / Sex -> M, F, U (the ``sex`` code list).
SEX_CODES = sex_codes()
#: ReasonForClosure -> exit of the episode of need (RC1-RC9, the ``reason_for_closure`` code list), for
#: the reasons that say more than ``closed`` (the callers' default).
CLOSURE_EXITS = closure_exits()
TRUE_TEXTS = frozenset({"1", "true", "TRUE", "True", "Y", "y", "yes"})
DATE_HINT = "write dates as YYYY-MM-DD (xs:date) and export the return again"
EARLIEST = dt.date(1900, 1, 1)
OK, BAD, EARLY, FUTURE = range(4)
DATE_PROBLEMS = {
    BAD: ("not a date", DATE_HINT),
    EARLY: ("impossible date (before 1900)", DATE_HINT),
    FUTURE: ("date in the future", "correct the date in the case system and re-export"),
}
ORDER_HINT = "correct the start or end date in the case system and re-export"
NAT = np.datetime64("NaT", "ns")
NAT_D = np.datetime64("NaT", "D")
_DAY = np.timedelta64(1, "D")
_quote = json.encoder.encode_basestring_ascii  # the C escaper json.dumps uses


def classify_date(raw: str | None, today: dt.date) -> tuple[dt.date | None, int, str]:
    """(date or None, OK/BAD/EARLY/FUTURE, stripped text) of one element text.

    >>> classify_date(" 2021-02-30 ", dt.date(2024, 1, 1))
    (None, 1, '2021-02-30')
    """
    text = (raw or "").strip()
    try:
        value = parse_date(text)
    except ValueError:
        return None, BAD, text
    if value is None:
        return None, OK, ""
    if value < EARLIEST:
        return None, EARLY, text
    if value > today:
        return value, FUTURE, text
    return value, OK, text


@dataclass
class _DateColumn:
    """A column of element texts parsed as dates: values, their check result and stripped text."""

    ns: np.ndarray  # datetime64[ns], NaT when empty or bad
    kind: np.ndarray  # OK / BAD / EARLY / FUTURE
    text: np.ndarray  # stripped text (object)
    obj: np.ndarray  # dt.date or None (object)


def _dates(raws: Any, today: dt.date, future_ok: bool = False, cache: dict[str, Any] | None = None) -> _DateColumn:
    """Parse a column of raw texts, each distinct text once (once per ``cache`` across columns)."""
    codes, uniques = pd.factorize(np.asarray(raws, dtype=object))
    cache = {} if cache is None else cache
    parsed = []
    for u in uniques:
        hit = cache.get(u)
        if hit is None:
            value, check, stripped = classify_date(u, today)
            hit = cache[u] = (value, check, stripped, np.datetime64(value, "D") if value is not None else NAT_D)
        parsed.append(hit)
    parsed.append((None, OK, "", NAT_D))
    objs = np.empty(len(parsed), dtype=object)
    objs[:] = [p[0] for p in parsed]
    kind = np.array([p[1] for p in parsed], dtype=np.int8)
    text = np.empty(len(parsed), dtype=object)
    text[:] = [p[2] for p in parsed]
    valid = (kind == OK) | ((kind == FUTURE) if future_ok else False)
    ns = np.array([p[3] for p in parsed], dtype="datetime64[D]").astype("datetime64[ns]")
    ns[~valid] = NAT
    objs[~valid] = None
    codes = np.where(codes < 0, len(parsed) - 1, codes)
    return _DateColumn(ns[codes], kind[codes], text[codes], objs[codes])


def _strip(raws: Any) -> np.ndarray:
    """Element texts stripped, None when empty (object array)."""
    codes, uniques = pd.factorize(np.asarray(raws, dtype=object))
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [(u.strip() or None) if isinstance(u, str) else None for u in uniques]
    table[-1] = None
    out: np.ndarray = table[np.where(codes < 0, len(uniques), codes)]
    return out


def _iso(ns: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD' texts of datetime64 values (None for NaT); each distinct date formatted once."""
    ns = np.asarray(ns, dtype="datetime64[ns]")
    codes, uniques = pd.factorize(ns.view("int64"))
    table = np.datetime_as_string(uniques.view("datetime64[ns]"), unit="D").astype(object)
    out: np.ndarray = table[codes]
    out[np.isnat(ns)] = None
    return out


def _frag(key: str, values: np.ndarray) -> np.ndarray:
    """JSON '"key": value' fragments of a text column ("" where the value is None or empty)."""
    codes, uniques = pd.factorize(values)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [f'"{key}": {_quote(u)}' if u != "" else "" for u in uniques]
    table[-1] = ""
    return table[np.where(codes < 0, len(uniques), codes)]


def _objects(values: Any) -> np.ndarray:
    """A 1-d object array of any iterable (tuples stay whole)."""
    values = values if isinstance(values, list | tuple | np.ndarray) else list(values)
    return np.fromiter(values, dtype=object, count=len(values))


def _join(*columns: np.ndarray, braces: bool = True) -> np.ndarray:
    """Row-wise '{frag, frag}' JSON objects from fragment columns ("" fragments are left out).

    Each distinct combination of fragments is joined once.
    """
    n = len(columns[0])
    key = np.zeros(n, dtype="int64")
    tables = []
    for column in columns:
        codes, uniques = pd.factorize(np.asarray(column, dtype=object))
        tables.append(np.asarray(uniques, dtype=object))
        key = key * (len(uniques) + 1) + codes
        key, _ = pd.factorize(key)  # keep the key small
        key = key.astype("int64")
    combo, first = np.unique(key, return_index=True)
    joined = np.empty(len(combo), dtype=object)
    picks = [np.asarray(column, dtype=object)[first] for column in columns]
    open_, close = ("{", "}") if braces else ("", "")
    joined[:] = [open_ + ", ".join([f for f in row if f]) + close for row in zip(*picks, strict=True)]
    return joined[np.searchsorted(combo, key)]


def _text_frag(key: str, values: np.ndarray) -> np.ndarray:
    """'"key": "value"' for texts that need no escaping (dates), "" where None."""
    missing = pd.isna(values)
    out = np.where(missing, "", values).astype(object)
    out = f'"{key}": "' + out + '"'
    out[missing] = ""
    return out


@dataclass
class CinTables:
    """Element texts of one CIN file, one list per column, as the stream reader copies them."""

    # one row per <Child>
    c_index: list[Any] = field(default_factory=list)
    c_first_row: list[Any] = field(default_factory=list)
    c_records: list[Any] = field(default_factory=list)
    c_id: list[Any] = field(default_factory=list)
    c_birth: list[Any] = field(default_factory=list)
    c_expected: list[Any] = field(default_factory=list)
    c_upn: list[Any] = field(default_factory=list)
    c_upn_unknown: list[Any] = field(default_factory=list)
    c_sex: list[Any] = field(default_factory=list)
    c_ethnicity: list[Any] = field(default_factory=list)
    c_disabilities: list[Any] = field(default_factory=list)
    # one row per <CINdetails> (the record)
    n_row: list[Any] = field(default_factory=list)
    n_child: list[Any] = field(default_factory=list)
    n_fields: list[Any] = field(default_factory=list)
    # one row per block: (record row, block number, texts...)
    assessments: list[Any] = field(default_factory=list)
    a_factors: list[Any] = field(default_factory=list)  # tuple per assessment
    plans: list[Any] = field(default_factory=list)
    s47s: list[Any] = field(default_factory=list)
    cpps: list[Any] = field(default_factory=list)
    #: CP plan review conference dates: (record row, plan number, review number, date text)
    cp_reviews: list[Any] = field(default_factory=list)
    #: pre-proceedings blocks, checked as they stream: (row, k, start, end, outcome) and their problems
    pre: list[Any] = field(default_factory=list)
    pre_problems: list[Any] = field(default_factory=list)

    def add_child(self, index: int, first_row: int, records: Any, child_id: Any, birth: Any, expected: Any,
                  upn: Any, upn_unknown: Any, sex: Any, ethnicity: Any, disabilities: Any) -> None:
        """One <Child> (texts already stripped except the dates)."""
        self.c_index.append(index)
        self.c_first_row.append(first_row)
        self.c_records.append(records)
        self.c_id.append(child_id)
        self.c_birth.append(birth)
        self.c_expected.append(expected)
        self.c_upn.append(upn)
        self.c_upn_unknown.append(upn_unknown)
        self.c_sex.append(sex)
        self.c_ethnicity.append(ethnicity)
        self.c_disabilities.append(disabilities)

    def add_need(self, row: int, child_index: int, leaves: dict[str, Any]) -> None:
        """One <CINdetails>: its leaf texts by element name."""
        self.n_row.append(row)
        self.n_child.append(child_index)
        get = leaves.get  # the texts of _NEED_FIELDS, in that order
        self.n_fields.append((get("CINreferralDate"), get("CINclosureDate"), get("DateOfInitialCPC"),
                              get("ReasonForClosure"), get("ReferralNFA"), get("ReferralSource"),
                              get("PrimaryNeedCode")))


_NEED_FIELDS = ("CINreferralDate", "CINclosureDate", "DateOfInitialCPC", "ReasonForClosure", "ReferralNFA",
                "ReferralSource", "PrimaryNeedCode")


def _by_unique(values: np.ndarray, fn: Callable[[Any], Any]) -> np.ndarray:
    """``fn`` applied to each distinct value of an object array (None included), spread back."""
    codes, uniques = pd.factorize(values)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [fn(u) for u in uniques]
    table[-1] = fn(None)
    return table[np.where(codes < 0, len(uniques), codes)]


def empty_episodes() -> pd.DataFrame:
    return pd.DataFrame(columns=EPISODE_COLUMNS)


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(columns=QUARANTINE_COLUMNS)
