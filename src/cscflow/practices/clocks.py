"""Every clock of every rule, evaluated at an as-of date inside the workspace engine (Ibis).

One row per clock: ``rule, child_id, start, due, stop, working_days, status, team``.

* The population of a clock rule on ``episodes`` is the stays of its stage, each kept once: the same
  stay (child, stage, start day) repeated in two returns or sources is one clock, the copy with the
  earliest end kept (a later return that saw the stay end wins over an earlier one that saw it open).
* ``start``: the stay's start, or the latest stay of another stage in the same episode of need on or
  before it (the referral of an assessment, the strategy discussion of a section 47 enquiry); a stay
  with no such stay falls back to its own start.
* ``stop``: the stay's end (only when its outcome is one of the rule's ``outcomes``; a stay ended
  otherwise needs no stop and starts no clock). A stop after the as-of date is not yet known.
* Working days (``working_days`` unit): from the start (day 0) to the stop, or to the as-of date
  while open, England bank holidays skipped (the workspace calendar table joined in the engine);
  ``due`` is the day ``amount`` working days after the start. Calendar units: ``due`` = start +
  amount days, weeks or months (hours as whole days: dates carry no time).
* ``status``: ``met`` (stopped within the limit), ``breached`` (stopped late), ``open`` (running, not
  yet due at the as-of date) or ``overdue`` (running, due date passed). A never event's rows are all
  ``breached``, dated at the stay's start.

Clocks starting after the as-of date are left out, so evaluating at a past date shows what the data
showed then (as far as the stays are dated).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cscflow.model.calendar import calendar_frame
from cscflow.practices.review_clocks import needs_reviews, no_review_table, review_clocks, unavailable_why
from cscflow.practices.rules import Rule, RulesError, select

COLUMNS = ["rule", "child_id", "start", "due", "stop", "working_days", "status", "team"]
STATUSES = ("met", "breached", "open", "overdue")


def as_of_default(ws: Any) -> dt.date:
    """The last date the workspace's stays reach (their latest start or end)."""
    ep = ws.table("episodes")
    row = ws.execute(ep.aggregate(s=ep.start.max(), e=ep.end.max())).iloc[0]
    days = [pd.Timestamp(v) for v in row if v is not None and not pd.isna(v)]
    if not days:
        raise RulesError(f"workspace {ws.path} holds no stays", hint="load data with `cscflow load` first")
    latest: dt.date = max(days).date()
    return latest


def _calendar(ws: Any) -> ibis.Table:
    if ws.has_table("calendar") or not ws.read_only:
        return ws.calendar()
    return ibis.memtable(calendar_frame())


def _wd_index(day: dt.date) -> int:
    """Working days up to and including ``day`` (the calendar table's ``wd_index``)."""
    cal = calendar_frame()
    return int(cal.loc[cal["date"] == day, "wd_index"].iloc[0])


def _stays(ws: Any, stage: str) -> ibis.Table:
    """The stays of ``stage``, each (child, start day) once: the copy with the earliest end."""
    ep = ws.table("episodes")
    st = ep.filter(ep.stage == stage).mutate(day=ep.start.cast("date"))
    w = ibis.window(group_by=[st.child_id, st.day], order_by=[st.end.isnull(), st.end, st.episode_id])
    st = st.mutate(_rn=ibis.row_number().over(w))
    return st.filter(st._rn == 0).drop("_rn")


def _episode_clocks(ws: Any, rule: Rule) -> ibis.Table:
    """(child_id, team, c_start, c_stop) per clock of a rule on stays."""
    c = rule.clock
    st = _stays(ws, c["stage"])
    start, stop = c["start"], c["stop"]
    if start.get("stage"):
        ep = ws.table("episodes")
        prior = ep.filter(ep.stage == start["stage"])
        prior = prior.select(p_need=prior.need_id, p_start=prior.start.cast("date"))
        j = st.left_join(prior, [st.need_id == prior.p_need, prior.p_start <= st.day])
        first = j.group_by(f_id=j.episode_id).aggregate(p_start=j.p_start.max())
        st = st.left_join(first, st.episode_id == first.f_id).drop("f_id")
        c_start = ibis.coalesce(st.p_start, st.day)
    else:
        c_start = st.day if start.get("at", "start") == "start" else st.end.cast("date")
    c_stop = st.end.cast("date") if stop.get("at", "end") == "end" else st.day
    outcomes = stop.get("outcomes")
    t = st.mutate(c_start=c_start, c_stop=c_stop)
    if outcomes:
        t = t.filter(t.c_stop.isnull() | t.outcome.isin(list(outcomes)))
    return t.select("child_id", "team", "c_start", "c_stop")


def _proceedings_clocks(ws: Any, rule: Rule) -> ibis.Table:
    p = ws.table("proceedings")
    c = rule.clock
    if ws.has_table("links"):  # a child linked to the proceedings by cscflow link
        ln = ws.table("links")
        ln = ln.group_by(l_id=ln.proceedings_id).aggregate(l_child=ln.child_id.max())
        p = p.left_join(ln, p.proceedings_id == ln.l_id)
        p = p.mutate(child_id=ibis.coalesce(p.child_id, p.l_child))
    return p.select(child_id=p.child_id, team=ibis.null().cast("string"),
                    c_start=p[c["start"]["column"]].cast("date"), c_stop=p[c["stop"]["column"]].cast("date"))


def clock_table(ws: Any, rule: Rule, as_of: dt.date, calendar: ibis.Table | None = None) -> ibis.Table:
    """The clocks of one clock ``rule`` at ``as_of`` as an engine expression (columns :data:`COLUMNS`).

    A clock of a review rule (:mod:`cscflow.practices.review_clocks`) whose stay ended (``c_cut``)
    before it stopped is dropped when the stay ended on or before the due date (no review was needed)
    and ``breached`` when it ended later (working days counted to the stay's end).
    """
    if rule.kind != "clock" or not rule.evaluable or rule.limit is None:
        raise RulesError(f"rule {rule.id!r} is not an evaluable clock", hint="pick a clock rule the data can show")
    if needs_reviews(rule):
        t = review_clocks(ws, rule, as_of)
    elif rule.table == "proceedings":
        t = _proceedings_clocks(ws, rule)
    else:
        t = _episode_clocks(ws, rule)
    if "c_cut" not in t.columns:
        t = t.mutate(c_cut=ibis.null().cast("date"))
    asof = ibis.literal(as_of, type="date")
    t = t.filter(t.c_start.notnull() & (t.c_start <= asof))
    t = t.mutate(c_stop=ibis.ifelse(t.c_stop > asof, ibis.null().cast("date"), t.c_stop),
                 c_cut=ibis.ifelse(t.c_cut > asof, ibis.null().cast("date"), t.c_cut))
    t = t.mutate(c_end=ibis.coalesce(t.c_stop, t.c_cut))
    cal = calendar if calendar is not None else _calendar(ws)
    a = cal.select(_a_date=cal.date.cast("date"), _a=cal.wd_index)
    b = cal.select(_b_date=cal.date.cast("date"), _b=cal.wd_index)
    t = t.left_join(a, t.c_start == a._a_date).drop("_a_date")
    t = t.left_join(b, t.c_end == b._b_date).drop("_b_date")
    asof_idx = _wd_index(as_of)
    t = t.mutate(working_days=(ibis.coalesce(t._b, ibis.literal(asof_idx)) - t._a).cast("int64"))
    n, unit = rule.limit.amount, rule.limit.unit
    stopped = t.c_stop.notnull()
    if unit == "working_days":
        d = cal.filter(cal.is_working_day).select(_d_date=cal.date.cast("date"), _d=cal.wd_index)
        t = t.mutate(_due_idx=t._a + n)
        t = t.left_join(d, t._due_idx == d._d).drop("_d", "_due_idx")
        t = t.rename(due="_d_date")
        late = t.working_days > n
        cut = t.c_cut.notnull() & ~stopped
        t = t.filter(~(cut & ~late))  # the stay ended in time: no review was needed
        status = ibis.cases((stopped & ~late, "met"), (stopped | cut, "breached"), (~late, "open"), else_="overdue")
    else:
        if unit == "months":
            due = t.c_start + ibis.interval(months=n)
        else:
            days = {"days": n, "weeks": 7 * n, "hours": int(np.ceil(n / 24))}[unit]
            due = t.c_start + ibis.interval(days=days)
        t = t.mutate(due=due.cast("date"))
        cut = t.c_cut.notnull() & ~stopped
        t = t.filter(~(cut & (t.c_cut <= t.due)))  # the stay ended in time: no review was needed
        status = ibis.cases((stopped & (t.c_stop <= t.due), "met"), (stopped | cut, "breached"),
                            (asof <= t.due, "open"), else_="overdue")
    t = t.mutate(status=status)
    return t.select(rule=ibis.literal(rule.id), child_id=t.child_id, start=t.c_start, due=t.due, stop=t.c_stop,
                    working_days=t.working_days, status=t.status, team=t.team)


def attrs_filter(st: ibis.Table, attrs: dict[str, Any]) -> ibis.Table:
    """The stays whose ``attrs`` hold one of the values given per code (e.g. ``{placement: [H5, P2]}``)."""
    for code, values in attrs.items():
        alts = "|".join(str(v) for v in (values if isinstance(values, list) else [values]))
        st = st.filter(st.attrs.re_search(f'"{code}": "({alts})"'))
    return st


def never_table(ws: Any, rule: Rule, as_of: dt.date) -> ibis.Table:
    """The rows breaking a never ``rule`` up to ``as_of`` (each dated at its stay's start); a rule with
    ``no_review_within``: :func:`cscflow.practices.review_clocks.no_review_table`."""
    chk = rule.check
    if chk.get("no_review_within"):
        return no_review_table(ws, rule, as_of)
    st = _stays(ws, chk["stage"])
    asof = ibis.literal(as_of, type="date")
    st = st.filter(st.day <= asof)
    st = attrs_filter(st, chk.get("attrs") or {})
    if chk.get("from"):
        frm = ibis.literal(chk["from"], type="date")
        st = st.filter(st.end.isnull() | (st.end.cast("date") >= frm))
        first = ibis.greatest(st.day, frm)
    else:
        first = st.day
    st = st.mutate(first=first)
    if chk.get("child_under"):
        kids = ws.table("children")
        kids = kids.select(k_child=kids.child_id, k_birth=kids.birth_month.cast("date"))
        st = st.inner_join(kids, st.child_id == kids.k_child)
        # birth_month is the 1st of the month of birth: the child is certainly under the age before
        # that month's anniversary, so only certain breaches are counted
        st = st.filter(st.first < st.k_birth + ibis.interval(years=int(chk["child_under"])))
    st = st.filter(st.first <= asof)
    return st.select(rule=ibis.literal(rule.id), child_id=st.child_id, start=st.first, due=st.first,
                     stop=ibis.null().cast("date"), working_days=ibis.null().cast("int64"),
                     status=ibis.literal("breached"), team=st.team)


def evaluate(ws: Any, rules: dict[str, Rule] | list[str] | None = None, as_of: Any = None, *,
             rule_ids: list[str] | None = None) -> pd.DataFrame:
    """Every clock of the evaluable ``rules`` (default: the bundled rules) at ``as_of`` (default:
    the last date of the workspace's stays): one row per clock, columns :data:`COLUMNS`.

    ``rules`` may be a dict from :func:`~cscflow.practices.rules.load_rules` or a list of rule ids
    of the bundled file. ``.attrs`` carry ``as_of`` and ``unavailable`` (rule id -> why the data
    cannot show it).
    """
    if isinstance(rules, list | tuple):
        rule_ids, rules = list(rules), None
    chosen = select(rules, rule_ids)
    day = pd.Timestamp(as_of).date() if as_of is not None else as_of_default(ws)
    cal = _calendar(ws)
    exprs, unavailable = [], {}
    tables = set(ws.tables())
    for rule in chosen:
        if not rule.evaluable:
            unavailable[rule.id] = rule.why
            continue
        if rule.table not in tables:
            unavailable[rule.id] = f"the workspace has no {rule.table} table"
            continue
        why = unavailable_why(ws, rule, day) if needs_reviews(rule) else None
        if why:
            unavailable[rule.id] = why
            continue
        exprs.append(clock_table(ws, rule, day, cal) if rule.kind == "clock" else never_table(ws, rule, day))
    if exprs:
        expr = exprs[0] if len(exprs) == 1 else ibis.union(*exprs)
        out = ws.execute(expr.order_by(["rule", "start", "child_id"]))
    else:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    for col in ("start", "due", "stop"):
        out[col] = pd.to_datetime(out[col])
    out["working_days"] = out["working_days"].astype("Int64")
    out = out[COLUMNS].reset_index(drop=True)
    out.attrs.update(as_of=day, unavailable=unavailable, window_start=window_start(ws))
    return out


def window_start(ws: Any) -> pd.Timestamp | None:
    """The first day of the data's observation window (the earliest source's window,
    :func:`cscflow.journeys.windows.source_windows`): clocks starting before it are the tail of stays that
    lasted (a census or a return holds an earlier referral only while its need was still open), so the
    rates leave them out (:func:`cscflow.practices.summary.by_period`)."""
    from cscflow.journeys.windows import source_windows

    w = source_windows(ws)
    return None if w.empty else pd.Timestamp(w["start"].min())


def coverage(rules: dict[str, Rule] | None = None, ws: Any = None, as_of: Any = None) -> pd.DataFrame:
    """Per rule: id, kind, limit, evaluable, why not, source (what the loaded returns can show; with a
    workspace ``ws``, also what its tables hold at ``as_of``, e.g. no reviews loaded)."""
    day = None if ws is None else (pd.Timestamp(as_of).date() if as_of is not None else as_of_default(ws))
    rows = []
    for r in select(rules):
        why = r.why if not r.evaluable else ""
        if not why and ws is not None and day is not None and needs_reviews(r):
            why = unavailable_why(ws, r, day) or ""
        rows.append({"rule": r.id, "kind": r.kind, "limit": str(r.limit) if r.limit else "",
                     "evaluable": not why, "why_not": why, "source": r.source})
    return pd.DataFrame(rows)


__all__ = ["COLUMNS", "STATUSES", "as_of_default", "attrs_filter", "clock_table", "coverage", "evaluate",
           "never_table"]
