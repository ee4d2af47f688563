"""Stays of the loaded CIN census records, built on whole columns (see :mod:`cscflow.sources.cin`).

Per episode of need: a ``referral`` ending at its first next step (assessment, S47
strategy discussion, CIN plan or CP plan, the earliest on or after the referral; else
no further action or the closure), each ``assessment`` (ending at authorisation, its
outcome the next step after it), per S47 a ``strategy_discussion`` and an ``s47`` (ending
at the ICPC, else the next plan, else the closure), each ``icpc`` (outcome: a CP plan
within a week, else a CIN plan within four weeks, else no further action), ``cin_plan``,
``cp_plan`` and the 2026 ``pre_proceedings``. Stays keep the order record by record.

>>> import datetime as dt
>>> from cscflow.sources.cin.checks import check_records
>>> from cscflow.sources.cin.frames import CinTables
>>> t = CinTables()
>>> t.add_child(1, 1, 1, "C1", None, None, None, None, None, None, ())
>>> t.add_need(1, 1, {"CINreferralDate": "2021-04-10"})
>>> t.assessments.append((1, 0, "2021-04-12", None)); t.a_factors.append(())
>>> stays, _, _ = build_stays(check_records(t, dt.date(2024, 1, 1)), 2022)
>>> stays[["stage", "outcome"]].values.tolist()
[['referral', 'assessment'], ['assessment', None]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cscflow.sources.base import EPISODE_COLUMNS
from cscflow.sources.cin.frames import (
    CLOSURE_EXITS,
    NAT,
    _by_unique,
    _frag,
    _iso,
    _join,
    _objects,
    _quote,
    _text_frag,
)

_WEEK = np.timedelta64(7, "D")
_DAY = np.timedelta64(1, "D")


def _first_step(anchors: pd.DataFrame, candidates: list[tuple[pd.DataFrame, str]], *,
                strictly_later_self: str | None = None) -> pd.DataFrame:
    """For each anchor (``aid``, ``row``, ``date``): the earliest candidate step on or after its date.

    Candidates are (frame with ``row``, ``start``, ``k``; stage name), in priority order for ties.
    Returns ``aid``, ``step_date``, ``step``. ``strictly_later_self`` names a candidate stage that
    counts only when strictly after the anchor (later assessments of the same need).
    """
    parts = []
    for priority, (frame, stage) in enumerate(candidates):
        if len(frame):
            parts.append(pd.DataFrame({"row": frame["row"].to_numpy(), "step_date": frame["start"].to_numpy(),
                                       "step": stage, "pri": priority * 10**6 + frame["k"].to_numpy()}))
    if not parts or anchors.empty:
        return pd.DataFrame({"aid": pd.Series(dtype="int64"), "step_date": pd.Series(dtype="datetime64[ns]"),
                             "step": pd.Series(dtype=object)})
    cands = pd.concat(parts, ignore_index=True)
    m = anchors.merge(cands, on="row")
    ok = m["step_date"] >= m["date"]
    if strictly_later_self:
        ok &= (m["step"] != strictly_later_self) | (m["step_date"] > m["date"])
    m = m.loc[ok].sort_values(["aid", "step_date", "pri"], kind="mergesort")
    return m.drop_duplicates("aid", keep="first")[["aid", "step_date", "step"]]


def _any_within(anchors: pd.DataFrame, frame: pd.DataFrame, lo: np.timedelta64, hi: np.timedelta64) -> np.ndarray:
    """Per anchor (``aid``, ``row``, ``date``): does ``frame`` hold a start in [date + lo, date + hi]?"""
    out = np.zeros(len(anchors), dtype=bool)
    if anchors.empty or frame.empty:
        return out
    m = anchors.merge(frame[["row", "start"]], on="row")
    hit = m.loc[(m["start"] >= m["date"] + lo) & (m["start"] <= m["date"] + hi), "aid"].unique()
    out[np.isin(anchors["aid"].to_numpy(), hit)] = True
    return out


def _icpc_outcomes(icpc: pd.DataFrame, plans: pd.DataFrame, cpps: pd.DataFrame) -> np.ndarray:
    anchors = pd.DataFrame({"aid": np.arange(len(icpc)), "row": icpc["row"].to_numpy(),
                            "date": icpc["date"].to_numpy()})
    to_cp = _any_within(anchors, cpps, np.timedelta64(0, "D"), _WEEK)
    to_cin = _any_within(anchors, plans, np.timedelta64(0, "D"), 4 * _WEEK)
    return np.where(to_cp, "cp_plan", np.where(to_cin, "cin_plan", "nfa")).astype(object)


class _Chunks:
    """The stays of one file as column chunks, each with its sort key (record by record; within a record by
    section, block and sub-step)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, rows: Any, stage: Any, start: Any, end: Any, outcome: Any, attrs: Any, sec: Any, k: Any,
            sub: Any = 0) -> None:
        n = len(rows)

        def col(x: Any, dtype: Any = object) -> np.ndarray:
            if isinstance(x, np.ndarray | list):
                return np.asarray(x, dtype=dtype)
            return np.full(n, x, dtype=dtype)

        order = (np.asarray(rows, dtype="int64") * 8 + sec) * 2**32 + col(k, "int64") * 4 + col(sub, "int64")
        self.parts.append((order, np.asarray(rows, dtype="int64"), col(stage), col(start, "datetime64[ns]"),
                           col(end, "datetime64[ns]"), col(outcome), col(attrs)))


@dataclass
class _File:
    """The checked records of one file that the stays are built from."""

    needs: pd.DataFrame
    a: pd.DataFrame  # assessments
    pl: pd.DataFrame  # CIN plans
    s: pd.DataFrame  # section 47 enquiries
    c: pd.DataFrame  # child protection plans
    pre: list[Any]  # pre-proceedings (2026 layout)
    ref: np.ndarray = field(init=False)
    closure: np.ndarray = field(init=False)
    reason: np.ndarray = field(init=False)
    has_closure: np.ndarray = field(init=False)
    by_row: pd.Series = field(init=False)

    def __post_init__(self) -> None:
        self.needs = self.needs.reset_index(drop=True)
        self.ref = self.needs["referral"].to_numpy()
        self.closure = self.needs["closure"].to_numpy()
        self.reason = self.needs["reason"].to_numpy(dtype=object)
        self.has_closure = ~np.isnat(self.closure)
        self.by_row = pd.Series(np.arange(len(self.needs)), index=self.needs["row"].to_numpy())


def build_stays(checked: Any, year: int | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The episodes frame of the loaded records and, per loaded need, whether a stay's attribute is the
    code 9A and whether an assessment found factor 9A (unaccompanied asylum-seeking child)."""
    f = _File(checked.needs, checked.assessments, checked.plans, checked.s47s, checked.cpps, checked.pre)
    out = _Chunks()
    _referral_stays(f, out, year)
    _assessment_stays(f, out)
    _s47_stays(f, out)
    _plan_stays(f, out)
    _pre_proceedings_stays(f, out)
    coded, assessed = _uasc_codes(f)
    return _frame(f, out), coded, assessed


def _referral_stays(f: _File, out: _Chunks, year: int | None) -> None:
    """One referral stay per need, ended by its first step (assessment, strategy discussion, plan) or closure."""
    needs, a, pl, s, c = f.needs, f.a, f.pl, f.s, f.c
    ref, closure, reason, has_closure = f.ref, f.closure, f.reason, f.has_closure
    # -- referral ------------------------------------------------------------------------------
    anchors = pd.DataFrame({"aid": np.arange(len(needs)), "row": needs["row"].to_numpy(), "date": ref})
    step = _first_step(anchors, [(a, "assessment"), (s, "strategy_discussion"), (pl, "cin_plan"), (c, "cp_plan")])
    aid = anchors["aid"].to_numpy()
    step_date = step.set_index("aid")["step_date"].reindex(aid).to_numpy()
    step_name = step.set_index("aid")["step"].reindex(aid).to_numpy(dtype=object)
    has_step = ~pd.isna(step_name)
    nfa = needs["nfa"].to_numpy()
    exits = np.array([CLOSURE_EXITS.get(r or "", "closed") for r in reason], dtype=object)
    end = np.where(has_step, step_date, np.where(nfa, np.where(has_closure, closure, ref), closure))
    outcome = np.where(has_step, step_name,
                       np.where(nfa, "nfa", np.where(has_closure, exits, None))).astype(object)
    # keys in json.dumps(sort_keys=True) order; referral_nfa is always there, so the texts before
    # it (year, closure date) and from it on (the codes, few distinct combinations) are joined apart
    head = _join(
        np.full(len(needs), f'"census_year": {year}' if year is not None else "", dtype=object),
        _text_frag("closure_date", _iso(closure)), braces=False,
    )
    tail = _join(
        _frag("closure_reason", reason),
        _frag("primary_need", needs["need_code"].to_numpy(dtype=object)),
        np.where(nfa, '"referral_nfa": true', '"referral_nfa": false').astype(object),
        _frag("referral_source", needs["source"].to_numpy(dtype=object)), braces=False,
    )
    attrs = "{" + head + np.where(head != "", ", ", "").astype(object) + tail + "}"
    out.add(needs["row"].to_numpy(), "referral", ref, end, outcome, attrs, 0, 0)



def _assessment_stays(f: _File, out: _Chunks) -> None:
    """The assessments, ended when authorised; their outcome the next step or the need's closure."""
    a, pl, s, c, by_row, reason, has_closure = f.a, f.pl, f.s, f.c, f.by_row, f.reason, f.has_closure
    if len(a):
        at = by_row.reindex(a["row"].to_numpy()).to_numpy()
        anchors = pd.DataFrame({"aid": np.arange(len(a)), "row": a["row"].to_numpy(), "date": a["start"].to_numpy()})
        step = _first_step(anchors, [(s, "strategy_discussion"), (pl, "cin_plan"), (c, "cp_plan"), (a, "assessment")],
                           strictly_later_self="assessment")
        name = step.set_index("aid")["step"].reindex(anchors["aid"].to_numpy()).to_numpy(dtype=object)
        closing = np.array([CLOSURE_EXITS.get(r or "", "nfa") for r in reason[at]], dtype=object)
        closing[~has_closure[at]] = None
        authorised = ~np.isnat(a["end"].to_numpy())
        outcome = np.where(authorised, np.where(pd.isna(name), closing, name), None).astype(object)
        attrs = _by_unique(a["factors"].to_numpy(dtype=object),
                           lambda f: '{"factors": [' + ", ".join(map(_quote, f)) + "]}" if f else "{}")
        out.add(a["row"].to_numpy(), "assessment", a["start"].to_numpy(), a["end"].to_numpy(), outcome, attrs, 1,
              a["k"].to_numpy())



def _s47_stays(f: _File, out: _Chunks) -> None:
    """Section 47: the strategy discussion, the enquiry and the initial child protection conferences (those of
    an enquiry and the need's own, counted once)."""
    needs, pl, s, c, by_row, closure, has_closure = f.needs, f.pl, f.s, f.c, f.by_row, f.closure, f.has_closure
    icpcs = []
    if len(s):
        rows, start, k = s["row"].to_numpy(), s["start"].to_numpy(), s["k"].to_numpy()
        st = by_row.reindex(rows).to_numpy()
        out.add(rows, "strategy_discussion", start, start, "s47", "{}", 2, k, 0)
        icpc = s["icpc"].to_numpy()
        has_icpc = ~np.isnat(icpc)
        anchors = pd.DataFrame({"aid": np.arange(len(s)), "row": rows, "date": start})
        step = _first_step(anchors, [(pl, "cin_plan"), (c, "cp_plan")])
        sname = step.set_index("aid")["step"].reindex(anchors["aid"].to_numpy()).to_numpy(dtype=object)
        sdate = step.set_index("aid")["step_date"].reindex(anchors["aid"].to_numpy()).to_numpy()
        has_step = ~pd.isna(sname)
        not_required = s["not_required"].to_numpy(dtype=bool)
        closed = has_closure[st]
        end = np.where(has_icpc, icpc, np.where(has_step, sdate, np.where(closed, closure[st],
                                                                        np.where(not_required, start, NAT))))
        outcome = np.where(has_icpc, "icpc", np.where(has_step, sname, np.where(
            closed | not_required, "nfa", None))).astype(object)
        unknown = ~has_icpc & ~has_step & ~closed & not_required
        due = _iso(s["target"].to_numpy())
        attrs = _join(
            np.where(unknown, '"end_unknown": true', "").astype(object),
            _text_frag("icpc_due", due),
            np.where(not_required, '"icpc_not_required": true', '"icpc_not_required": false').astype(object),
        )
        out.add(rows, "s47", start, end, outcome, attrs, 2, k, 1)
        if has_icpc.any():
            icpcs.append(pd.DataFrame({"row": rows[has_icpc], "date": icpc[has_icpc], "sec": 2, "k": k[has_icpc],
                                       "sub": 2}))
    top = needs["top_icpc"].to_numpy()
    has_top = ~np.isnat(top)
    if has_top.any():
        tops = pd.DataFrame({"row": needs["row"].to_numpy()[has_top], "date": top[has_top], "sec": 3, "k": 0, "sub": 0})
        if len(s):
            seen = pd.DataFrame({"row": s["row"].to_numpy(), "date": s["icpc"].to_numpy()}).dropna()
            tops = tops.merge(seen.drop_duplicates().assign(seen=True), on=["row", "date"], how="left")
            tops = tops.loc[tops["seen"].isna()].drop(columns="seen")
        icpcs.append(tops)
    if icpcs:
        icpc = pd.concat(icpcs, ignore_index=True)
        if len(icpc):
            date = icpc["date"].to_numpy()
            out.add(icpc["row"].to_numpy(), "icpc", date, date, _icpc_outcomes(icpc, pl, c), "{}",
                  icpc["sec"].to_numpy(), icpc["k"].to_numpy(), icpc["sub"].to_numpy())



def _plan_stays(f: _File, out: _Chunks) -> None:
    """CIN plans (outcome: moved to a CP plan within their span, else closed) and CP plans."""
    pl, c = f.pl, f.c
    if len(pl):
        anchors = pd.DataFrame({"aid": np.arange(len(pl)), "row": pl["row"].to_numpy(), "date": pl["start"].to_numpy()})
        span = (pl["end"] - pl["start"]).to_numpy()
        moved = _any_within_span(anchors, c, span + _DAY)
        ended = ~np.isnat(pl["end"].to_numpy())
        outcome = np.where(ended, np.where(moved, "cp_plan", "closed"), None).astype(object)
        out.add(pl["row"].to_numpy(), "cin_plan", pl["start"].to_numpy(), pl["end"].to_numpy(), outcome, "{}", 4,
              pl["k"].to_numpy())
    if len(c):
        ends = c["end"].to_numpy()
        ended = ~np.isnat(ends)
        anchors = pd.DataFrame({"aid": np.arange(len(c)), "row": c["row"].to_numpy(), "date": ends})
        stepped = _any_within(anchors, pl, -_DAY, _WEEK)
        outcome = np.where(ended, np.where(stepped, "cin_plan", "closed"), None).astype(object)
        previous = _objects(int(p) if p and p.isdecimal() else None for p in c["previous"])
        attrs = _join(
            _frag("category_of_abuse", c["latest"].to_numpy(dtype=object)),
            _frag("initial_category", c["initial"].to_numpy(dtype=object)),
            _objects(f'"previous_cpp": {p}' if p is not None else "" for p in previous),
            _objects(f'"reviews": {r}' if r else "" for r in c["reviews"]),
        )
        out.add(c["row"].to_numpy(), "cp_plan", c["start"].to_numpy(), ends, outcome, attrs, 5, c["k"].to_numpy())


def _pre_proceedings_stays(f: _File, out: _Chunks) -> None:
    """Pre-proceedings (PLO) stays of the 2026 layout."""
    if f.pre:
        pre = pd.DataFrame.from_records(f.pre, columns=["row", "k", "start", "end", "raw"])
        pre_outcome: list[str | None] = []
        for raw, end in zip(pre["raw"], pre["end"], strict=True):
            if raw:
                pre_outcome.append("proceedings" if ("proceed" in raw.lower() or raw.lower() in _TRUE) else "closed")
            else:
                pre_outcome.append("closed" if end is not None else None)
        attrs = _objects(f'{{"plo_outcome": {_quote(r)}}}' if r else "{}" for r in pre["raw"])
        out.add(pre["row"].to_numpy(), "pre_proceedings", _ns(pre["start"]), _ns(pre["end"]), _objects(pre_outcome),
              attrs, 6, pre["k"].to_numpy())



def _frame(f: _File, out: _Chunks) -> pd.DataFrame:
    """The stays in record order as an episodes frame (``need_key``: LA child id / referral date)."""
    needs, by_row, ref = f.needs, f.by_row, f.ref
    chunks = out.parts
    order = np.argsort(np.concatenate([c[0] for c in chunks]), kind="stable")
    rows, stage, start, end, outcome, attrs = (np.concatenate([c[i] for c in chunks])[order] for i in range(1, 7))
    at = by_row.reindex(rows).to_numpy()
    child_id = needs["child_id"].to_numpy(dtype=object)
    need_key = child_id + "/" + _iso(ref)
    n = len(rows)
    frame = pd.DataFrame({
        "source_child_id": child_id[at], "stage": stage, "start": start, "end": end, "outcome": outcome,
        "need_key": need_key[at], "team": np.full(n, None, dtype=object), "worker": np.full(n, None, dtype=object),
        "attrs": attrs, "source_row": rows,
    }, columns=EPISODE_COLUMNS)
    return frame


def _uasc_codes(f: _File) -> tuple[np.ndarray, np.ndarray]:
    """Per need: whether a stay's attribute is the code 9A; whether an assessment found factor 9A."""
    needs, a, c, by_row, reason = f.needs, f.a, f.c, f.by_row, f.reason
    # uasc: an attribute of the need's stays is the code 9A (factor 9A of an assessment for uasc_assessed)
    assessed = np.zeros(len(needs), dtype=bool)
    if len(a):
        has = np.fromiter(("9A" in f for f in a["factors"]), dtype=bool, count=len(a))
        assessed[by_row.reindex(a["row"].to_numpy()[has]).to_numpy()] = True
    coded = assessed | np.isin(reason, ["9A"]) | np.isin(needs["source"].to_numpy(dtype=object), ["9A"])
    coded |= np.isin(needs["need_code"].to_numpy(dtype=object), ["9A"])
    if len(c):
        hit = np.isin(c["latest"].to_numpy(dtype=object), ["9A"]) | np.isin(c["initial"].to_numpy(dtype=object), ["9A"])
        coded[by_row.reindex(c["row"].to_numpy()[hit]).to_numpy()] = True
    for row, _k, _start, _end, raw in f.pre:
        if raw == "9A":
            coded[by_row[row]] = True
    return coded, assessed


_TRUE = {"1", "true", "TRUE", "True", "Y", "y", "yes"}


def _ns(values: Any) -> np.ndarray:
    return np.array([np.datetime64(v, "D") if v is not None else np.datetime64("NaT") for v in values],
                    dtype="datetime64[D]").astype("datetime64[ns]")


def _any_within_span(anchors: pd.DataFrame, frame: pd.DataFrame, upto: np.ndarray) -> np.ndarray:
    """Per anchor: does ``frame`` hold a start in [date, date + upto[aid]] (upto NaT -> never)?"""
    out = np.zeros(len(anchors), dtype=bool)
    if anchors.empty or frame.empty:
        return out
    a = anchors.assign(upto=upto)
    m = a.merge(frame[["row", "start"]], on="row")
    hit = m.loc[(m["start"] >= m["date"]) & (m["start"] <= m["date"] + m["upto"]), "aid"].unique()
    out[np.isin(anchors["aid"].to_numpy(), hit)] = True
    return out

