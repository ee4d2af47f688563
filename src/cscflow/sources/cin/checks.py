"""Record checks of the CIN census reader, on whole columns (see :mod:`cscflow.sources.cin.frames`).

A record (one ``<CINdetails>``, or a ``<Child>`` without any) is quarantined whole when a
date is not a date, before 1900 or in the future, an end comes before its start, the
referral date or an assessment start is missing, the child has no LAchildID or a bad
birth date, or it repeats an earlier episode of need (same child and referral date).
Problems keep the order in which a reader going through the record would meet them.

>>> from cscflow.sources.cin.frames import CinTables
>>> t = CinTables()
>>> t.add_child(1, 1, 1, "C1", None, None, None, None, None, None, ())
>>> t.add_need(1, 1, {"CINreferralDate": "2021-02-30"})
>>> checked = check_records(t, dt.date(2024, 1, 1))
>>> checked.rows_loaded, checked.quarantine["problem"].tolist()
(0, ['not a date (Child element 1)'])
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cscflow.sources.base import QUARANTINE_COLUMNS
from cscflow.sources.cin.frames import (
    _NEED_FIELDS,
    BAD,
    DATE_PROBLEMS,
    EARLY,
    FUTURE,
    OK,
    ORDER_HINT,
    TRUE_TEXTS,
    CinTables,
    _DateColumn,
    _dates,
    _iso,
    _objects,
    _strip,
)

_PROBLEM_TEXT = np.array(["", DATE_PROBLEMS[BAD][0], DATE_PROBLEMS[EARLY][0], DATE_PROBLEMS[FUTURE][0]], dtype=object)
_PROBLEM_HINT = np.array(["", DATE_PROBLEMS[BAD][1], DATE_PROBLEMS[EARLY][1], DATE_PROBLEMS[FUTURE][1]], dtype=object)
_SEC = 10**8  # problem order key: section * _SEC + block * 100 + check


@dataclass
class Checked:
    """What the checks leave for the stays: parsed columns of the loaded records and the quarantine."""

    birth: _DateColumn
    expected: _DateColumn
    child_loaded: np.ndarray  # per <Child>: has a loaded record
    loaded_needs: np.ndarray  # per <CINdetails>
    rows_loaded: int
    quarantine: pd.DataFrame | None
    needs: pd.DataFrame  # loaded needs: row, child_index, child_id, referral, closure, top_icpc, reason, ...
    assessments: pd.DataFrame
    plans: pd.DataFrame
    s47s: pd.DataFrame
    cpps: pd.DataFrame
    pre: list[Any]
    reviews: pd.DataFrame = field(default_factory=pd.DataFrame)  # loaded CP plans' reviews: row, k, date


class _Problems:
    """Problem rows collected as column chunks."""

    def __init__(self) -> None:
        self.chunks: list[pd.DataFrame] = []

    def add(self, rows: Any, key: Any, column: Any, value: Any, problem: Any, hint: Any, mask: Any) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        n = int(mask.sum())

        def pick(x: Any) -> np.ndarray:
            if isinstance(x, np.ndarray | list | pd.Series):
                picked: np.ndarray = np.asarray(x, dtype=object if not isinstance(x, np.ndarray) else x.dtype)[mask]
                return picked
            return np.full(n, x, dtype=object)

        self.chunks.append(pd.DataFrame({
            "row": np.asarray(rows)[mask], "key": pick(key).astype("int64"), "column": pick(column),
            "value": pick(value), "problem": pick(problem), "hint": pick(hint),
        }))

    def dates(self, rows: Any, key: Any, column: Any, col: _DateColumn, future_ok: bool = False) -> None:
        bad = (col.kind != OK) & ~((col.kind == FUTURE) if future_ok else False)
        self.add(rows, key, column, col.text, _PROBLEM_TEXT[col.kind], _PROBLEM_HINT[col.kind], bad)

    def order(self, rows: Any, key: Any, column: Any, start: np.ndarray, end: np.ndarray) -> None:
        bad = ~np.isnat(start) & ~np.isnat(end) & (end < start)
        if bad.any():
            problem = np.full(len(bad), None, dtype=object)
            problem[bad] = [f"end before start ({s})" for s in _iso(start[bad])]
            self.add(rows, key, column, _iso(end), problem, ORDER_HINT, bad)

    def frame(self) -> pd.DataFrame:
        if not self.chunks:
            return pd.DataFrame(columns=["row", "key", "column", "value", "problem", "hint"])
        return pd.concat(self.chunks, ignore_index=True)


def _block_frame(rows: list[Any], columns: list[str]) -> dict[str, np.ndarray]:
    """Columns (object arrays; ``row`` and ``k`` int64) of a list of block tuples of texts."""
    table = np.array(rows, dtype=object) if rows else np.empty((0, len(columns)), dtype=object)
    out = {c: table[:, j] for j, c in enumerate(columns)}
    out["row"] = out["row"].astype("int64")
    out["k"] = out["k"].astype("int64")
    return out


@dataclass
class _Parsed:
    """One file's records with their dates parsed (each block: its frame, row numbers, problem keys, dates)."""

    rows: np.ndarray
    need_child: np.ndarray
    fields: dict[str, np.ndarray]
    referral: Any
    closure: Any
    top_icpc: Any
    a: pd.DataFrame
    a_start: Any
    a_auth: Any
    pl: pd.DataFrame
    pl_start: Any
    pl_end: Any
    s: pd.DataFrame
    s_start: Any
    s_target: Any
    s_icpc: Any
    c: pd.DataFrame
    c_start: Any
    c_end: Any
    r: dict[str, np.ndarray]
    r_date: Any

    @property
    def a_rows(self) -> Any:
        return self.a["row"]

    @property
    def a_key(self) -> Any:
        return 1 * _SEC + self.a["k"] * 100


def check_records(t: CinTables, today: dt.date) -> Checked:
    """Check every record of one file; see the module docstring."""
    n_children = len(t.c_index)
    cache: dict[str, Any] = {}  # date text -> parsed, shared by every date column
    birth, expected, probe_frame, probe_bad = _child_problems(t, today, cache)
    x, need_problems = _record_problems(t, today, cache)
    need_problems = _missing_assessment_starts(x, need_problems)
    # records of a child with a bad LAchildID or birth date carry only those problems
    row_child = _row_child(t)
    if len(need_problems):
        need_problems = need_problems.loc[~probe_bad[row_child[need_problems["row"].to_numpy(dtype="int64")]]]
    probe_rows = _expand_probe(t, probe_frame)
    clean = ~probe_bad[x.need_child] & ~np.isin(x.rows, need_problems["row"].to_numpy(dtype="int64"))
    child_ids = _objects(t.c_id)[x.need_child] if len(x.need_child) else np.empty(0, dtype=object)
    loaded_needs, dup_frame = _drop_duplicates(x, clean, child_ids)
    need_child = x.need_child
    # loaded records per child: its loaded CINdetails, or its one record when it has none
    per_child = np.bincount(need_child[loaded_needs], minlength=n_children) if n_children else np.zeros(0, int)
    no_details = np.asarray(t.c_records) > np.bincount(need_child, minlength=n_children) if n_children else per_child
    per_child = per_child + (no_details & ~probe_bad)
    quarantine = _quarantine([probe_rows, need_problems, dup_frame], row_child, t)
    needs, assessments, plans, s47s, cpps, pre_loaded, reviews = _loaded(t, x, loaded_needs, child_ids)
    return Checked(birth, expected, per_child > 0, loaded_needs, int(per_child.sum()), quarantine, needs,
                   assessments, plans, s47s, cpps, pre_loaded, reviews)


def _child_problems(t: CinTables, today: dt.date, cache: dict[str, Any]) -> tuple[Any, Any, pd.DataFrame, np.ndarray]:
    """Child-level facts (birth, expected birth, LA child id), charged to every record of the child:
    (birth dates, expected birth dates, their problems, whether each child has one)."""
    n_children = len(t.c_index)
    birth = _dates(t.c_birth, today, cache=cache)
    expected = _dates(t.c_expected, today, future_ok=True, cache=cache)
    child_pos = np.arange(n_children)
    probe = _Problems()
    probe.dates(child_pos, np.full(n_children, -_SEC), "ChildIdentifiers/PersonBirthDate", birth)
    probe.dates(child_pos, np.full(n_children, -_SEC + 1), "ChildIdentifiers/ExpectedPersonBirthDate", expected,
                future_ok=True)
    no_id = np.array([not c for c in t.c_id], dtype=bool)
    probe.add(child_pos, -_SEC + 2, "ChildIdentifiers/LAchildID", "", "child has no LAchildID",
              "every <Child> needs <ChildIdentifiers><LAchildID>; fix the export", no_id)
    probe_frame = probe.frame()
    probe_bad = np.zeros(n_children, dtype=bool)
    probe_bad[probe_frame["row"].to_numpy(dtype=int)] = True
    return birth, expected, probe_frame, probe_bad


def _record_problems(t: CinTables, today: dt.date, cache: dict[str, Any]) -> tuple[_Parsed, pd.DataFrame]:
    """One row per CINdetails and per block (assessments, plans, section 47s, CP plans) with dates parsed;
    the problems of their dates and date order."""
    rows = np.asarray(t.n_row, dtype="int64")
    need_child = np.asarray(t.n_child, dtype="int64") - 1  # position of the child
    table = np.array(t.n_fields, dtype=object) if t.n_fields else np.empty((0, len(_NEED_FIELDS)), dtype=object)
    fields = {f: table[:, j] for j, f in enumerate(_NEED_FIELDS)}
    referral = _dates(fields["CINreferralDate"], today, cache=cache)
    closure = _dates(fields["CINclosureDate"], today, cache=cache)
    top_icpc = _dates(fields["DateOfInitialCPC"], today, cache=cache)
    p = _Problems()
    p.dates(rows, 0, "CINdetails/CINreferralDate", referral)
    p.add(rows, 1, "CINdetails/CINreferralDate", "", "episode of need has no referral date",
          "every <CINdetails> needs <CINreferralDate>; fix the export",
          np.isnat(referral.ns) & (referral.kind == OK))
    p.dates(rows, 2, "CINdetails/CINclosureDate", closure)
    p.order(rows, 3, "CINdetails/CINclosureDate", referral.ns, closure.ns)
    p.dates(rows, 4, "CINdetails/DateOfInitialCPC", top_icpc)

    a = _block_frame(t.assessments, ["row", "k", "start", "auth"])
    a["factors"] = _objects(t.a_factors)
    a_start, a_auth = _dates(a["start"], today, cache=cache), _dates(a["auth"], today, cache=cache)
    a_rows, a_key = a["row"], 1 * _SEC + a["k"] * 100
    p.dates(a_rows, a_key, "Assessments/AssessmentActualStartDate", a_start)
    p.dates(a_rows, a_key + 1, "Assessments/AssessmentAuthorisationDate", a_auth)
    p.order(a_rows, a_key + 2, "Assessments/AssessmentAuthorisationDate", a_start.ns, a_auth.ns)

    pl = _block_frame(t.plans, ["row", "k", "start", "end"])
    pl_start, pl_end = _dates(pl["start"], today, cache=cache), _dates(pl["end"], today, cache=cache)
    pl_rows, pl_key = pl["row"], 2 * _SEC + pl["k"] * 100
    p.dates(pl_rows, pl_key, "CINPlanDates/CINPlanStartDate", pl_start)
    p.dates(pl_rows, pl_key + 1, "CINPlanDates/CINPlanEndDate", pl_end)
    p.order(pl_rows, pl_key + 2, "CINPlanDates/CINPlanEndDate", pl_start.ns, pl_end.ns)

    s = _block_frame(t.s47s, ["row", "k", "start", "target", "icpc", "not_required"])
    s_start = _dates(s["start"], today, cache=cache)
    s_target = _dates(s["target"], today, future_ok=True, cache=cache)
    s_icpc = _dates(s["icpc"], today, cache=cache)
    s_rows, s_key = s["row"], 3 * _SEC + s["k"] * 100
    p.dates(s_rows, s_key, "Section47/S47ActualStartDate", s_start)
    p.dates(s_rows, s_key + 1, "Section47/InitialCPCtarget", s_target, future_ok=True)
    p.dates(s_rows, s_key + 2, "Section47/DateOfInitialCPC", s_icpc)
    p.order(s_rows, s_key + 3, "Section47/DateOfInitialCPC", s_start.ns, s_icpc.ns)

    c = _block_frame(t.cpps, ["row", "k", "start", "end", "latest", "initial", "previous", "reviews"])
    c_start, c_end = _dates(c["start"], today, cache=cache), _dates(c["end"], today, cache=cache)
    c_rows, c_key = c["row"], 4 * _SEC + c["k"] * 100
    p.dates(c_rows, c_key, "ChildProtectionPlans/CPPstartDate", c_start)
    p.dates(c_rows, c_key + 1, "ChildProtectionPlans/CPPendDate", c_end)
    p.order(c_rows, c_key + 2, "ChildProtectionPlans/CPPendDate", c_start.ns, c_end.ns)
    r = _block_frame(t.cp_reviews, ["row", "k", "j", "date"])
    r_date = _dates(r["date"], today, cache=cache)
    r_key = 4 * _SEC + r["k"] * 100 + 3 + np.minimum(r["j"].astype("int64"), 96)
    p.dates(r["row"], r_key, "ChildProtectionPlans/Reviews/CPPreviewDate", r_date)
    if t.pre_problems:
        pre = pd.DataFrame.from_records(t.pre_problems, columns=["row", "k", "j", "column", "value", "problem", "hint"])
        p.add(pre["row"].to_numpy(), 5 * _SEC + pre["k"].to_numpy() * 100 + pre["j"].to_numpy(), pre["column"],
              pre["value"], pre["problem"], pre["hint"], np.ones(len(pre), dtype=bool))
    need_problems = p.frame()
    return _Parsed(rows, need_child, fields, referral, closure, top_icpc, a, a_start, a_auth, pl, pl_start, pl_end,
                   s, s_start, s_target, s_icpc, c, c_start, c_end, r, r_date), need_problems


def _missing_assessment_starts(x: _Parsed, need_problems: pd.DataFrame) -> pd.DataFrame:
    """An assessment without a start is a problem only when nothing before it in the record was."""
    a_start, a_rows, a_key = x.a_start, x.a_rows, x.a_key
    missing = np.isnat(a_start.ns) & (a_start.kind == OK)
    if missing.any():
        cand = pd.DataFrame({"row": a_rows[missing], "key": a_key[missing] + 3})
        first_other = need_problems.groupby("row")["key"].min() if len(need_problems) else pd.Series(dtype="int64")
        cand = cand.drop_duplicates("row", keep="first")
        before = cand["row"].map(first_other)
        cand = cand.loc[before.isna() | (cand["key"] < before.fillna(0))]
        if len(cand):
            extra = pd.DataFrame({
                "row": cand["row"].to_numpy(), "key": cand["key"].to_numpy(),
                "column": "Assessments/AssessmentActualStartDate", "value": "",
                "problem": "assessment has no start date",
                "hint": "give the assessment start date or remove the empty <Assessments>",
            })
            need_problems = pd.concat([need_problems, extra], ignore_index=True)

    return need_problems


def _drop_duplicates(x: _Parsed, clean: np.ndarray, child_ids: np.ndarray) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Duplicates among the clean records (same child and referral date as an earlier record) dropped:
    (the records loaded, the duplicates' problems or None)."""
    rows, referral = x.rows, x.referral
    dup_frame = None
    if clean.any():
        id_codes = pd.factorize(child_ids[clean])[0].astype("int64")
        ref_codes, ref_uniques = pd.factorize(referral.ns[clean].view("int64"))
        key = id_codes * (len(ref_uniques) + 1) + ref_codes
        dup = pd.Index(key).duplicated(keep="first")
        if dup.any():
            clean_rows = rows[clean]
            first_row = dict(zip(key[::-1].tolist(), clean_rows[::-1].tolist(), strict=True))  # first wins
            dup_frame = pd.DataFrame({
                "row": clean_rows[dup], "key": 6 * _SEC, "column": "CINdetails/CINreferralDate",
                "value": _iso(referral.ns[clean][dup]),
                "problem": _objects(f"duplicate episode of need: same child and referral date as row {first_row[k]}"
                                    for k in key[dup].tolist()),
                "hint": "remove the repeated <CINdetails> from the export",
            })
            clean[np.flatnonzero(clean)[dup]] = False
    return clean, dup_frame


def _loaded(t: CinTables, x: _Parsed, loaded_needs: np.ndarray, child_ids: np.ndarray) -> tuple[Any, ...]:
    """The loaded records' needs, assessments, plans, section 47s, CP plans and pre-proceedings."""
    rows, need_child, fields = x.rows, x.need_child, x.fields
    referral, closure, top_icpc = x.referral, x.closure, x.top_icpc
    a, a_start, a_auth, a_rows = x.a, x.a_start, x.a_auth, x.a_rows
    pl, pl_start, pl_end, pl_rows = x.pl, x.pl_start, x.pl_end, x.pl["row"]
    s, s_start, s_target, s_icpc, s_rows = x.s, x.s_start, x.s_target, x.s_icpc, x.s["row"]
    c, c_start, c_end, c_rows = x.c, x.c_start, x.c_end, x.c["row"]
    keep = np.isin
    loaded_rows = rows[loaded_needs]
    needs = pd.DataFrame({
        "row": loaded_rows, "child_index": need_child[loaded_needs] + 1, "child_id": child_ids[loaded_needs],
        "referral": referral.ns[loaded_needs], "closure": closure.ns[loaded_needs],
        "top_icpc": top_icpc.ns[loaded_needs],
        "reason": _strip(_objects(fields["ReasonForClosure"]))[loaded_needs],
        "nfa": np.isin(_strip(_objects(fields["ReferralNFA"]))[loaded_needs], list(TRUE_TEXTS)),
        "source": _strip(_objects(fields["ReferralSource"]))[loaded_needs],
        "need_code": _strip(_objects(fields["PrimaryNeedCode"]))[loaded_needs],
    })
    a_keep = keep(a_rows, loaded_rows)
    assessments = pd.DataFrame({"row": a_rows[a_keep], "k": a["k"][a_keep],
                                "start": a_start.ns[a_keep], "end": a_auth.ns[a_keep],
                                "factors": a["factors"][a_keep]})
    pl_keep = keep(pl_rows, loaded_rows) & ~np.isnat(pl_start.ns)
    plans = pd.DataFrame({"row": pl_rows[pl_keep], "k": pl["k"][pl_keep],
                          "start": pl_start.ns[pl_keep], "end": pl_end.ns[pl_keep]})
    s_keep = keep(s_rows, loaded_rows) & ~np.isnat(s_start.ns)
    s47s = pd.DataFrame({"row": s_rows[s_keep], "k": s["k"][s_keep], "start": s_start.ns[s_keep],
                         "target": s_target.ns[s_keep], "icpc": s_icpc.ns[s_keep],
                         "not_required": np.isin(_strip(s["not_required"]),
                                                 list(TRUE_TEXTS))[s_keep]})
    c_keep = keep(c_rows, loaded_rows) & ~np.isnat(c_start.ns)
    cpps = pd.DataFrame({"row": c_rows[c_keep], "k": c["k"][c_keep], "start": c_start.ns[c_keep],
                         "end": c_end.ns[c_keep],
                         "latest": _strip(c["latest"])[c_keep],
                         "initial": _strip(c["initial"])[c_keep],
                         "previous": _strip(c["previous"])[c_keep],
                         "reviews": c["reviews"][c_keep]})
    r_keep = keep(x.r["row"], loaded_rows) & ~np.isnat(x.r_date.ns)
    reviews = pd.DataFrame({"row": x.r["row"][r_keep], "k": x.r["k"][r_keep], "date": x.r_date.ns[r_keep]})
    reviews = reviews.merge(cpps[["row", "k"]], on=["row", "k"])  # of the plans kept (those with a start)
    loaded_set = set(loaded_rows.tolist())
    pre_loaded = [x for x in t.pre if x[0] in loaded_set]
    return needs, assessments, plans, s47s, cpps, pre_loaded, reviews


def _row_child(t: CinTables) -> np.ndarray:
    """Position of the <Child> of each record row (index = row)."""
    total = int(sum(t.c_records))
    out = np.zeros(total + 2, dtype="int64")
    if t.c_records:
        out[1 : total + 1] = np.repeat(np.arange(len(t.c_records)), t.c_records)
    return out


def _expand_probe(t: CinTables, probe: pd.DataFrame) -> pd.DataFrame | None:
    """The child-level problems, once for every record of the child."""
    if probe.empty:
        return None
    first = np.asarray(t.c_first_row, dtype="int64")[probe["row"].to_numpy(dtype=int)]
    count = np.asarray(t.c_records, dtype="int64")[probe["row"].to_numpy(dtype=int)]
    rep = probe.loc[probe.index.repeat(count)].reset_index(drop=True)
    offset = np.concatenate([np.arange(n) for n in count]) if len(count) else np.zeros(0, int)
    rep["row"] = np.repeat(first, count) + offset
    return rep


def _quarantine(chunks: list[Any], row_child: np.ndarray, t: CinTables) -> pd.DataFrame | None:
    chunks = [c for c in chunks if c is not None and len(c)]
    if not chunks:
        return None
    q = pd.concat(chunks, ignore_index=True).sort_values(["row", "key"], kind="mergesort")
    index = np.asarray(t.c_index, dtype="int64")[row_child[q["row"].to_numpy(dtype=int)]]
    problem = [f"{text} (Child element {i})" for text, i in zip(q["problem"], index, strict=True)]
    return pd.DataFrame({"source_row": q["row"].to_numpy(dtype="int64"), "column": q["column"].to_numpy(),
                         "value": q["value"].to_numpy(), "problem": problem, "hint": q["hint"].to_numpy()},
                        columns=QUARANTINE_COLUMNS)
