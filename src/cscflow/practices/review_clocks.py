"""Clocks that start or stop at a review of a child's plan (the ``reviews`` table), in the engine (Ibis).

The population is the stays of the rule's stage (``cp_plan``: each child protection plan) or, with
``per: period_of_care``, the periods of care the stays make up (``looked_after``: SSDA903 episodes that
follow on without a gap, an episode starting on or before the day the previous one ended, are one period;
the Care Planning Regulations count reviews from the day the child became looked after).

The reviews of a stay are those of its stage dated after the stay's start, up to its end (open: up to
the as-of date), each (child, date) once however many returns repeat it, numbered 1, 2, ... in date
order. A rule says where its clock starts and stops:

* ``start: {at: start}, stop: {review: 1}``: from the start of the stay to its first review;
* ``start: {review: N}, stop: {review: next}``: from the N-th review to the next;
* ``start: {review: each, from: N}, stop: {review: next}``: one clock per review from the N-th on.

Each clock carries ``c_cut``, the end of its stay: a stay that ended before the clock stopped needs no
stop after that day (:func:`cscflow.practices.clocks.clock_table` drops the clock when the stay ended on
or before the due date and counts it ``breached`` when it ended later).

Coverage: returns carry the reviews of their own year only (the SSDA903 Reviews table, the CIN census
``CPPreviewDate``), so a review's number is known only for stays that started on or after the first
review of that stage the workspace holds; clocks that need the number (every clock above except
``{review: each, from: 1}``) are counted for those stays only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

from cscflow.practices.rules import Rule

FAR = dt.date(9999, 12, 31)


def _stays(ws: Any, stage: str) -> ibis.Table:
    from cscflow.practices.clocks import _stays as stays

    out: ibis.Table = stays(ws, stage)
    return out


def first_review(ws: Any, stage: str) -> dt.date | None:
    """The earliest review of ``stage`` in the workspace (None: it holds none)."""
    if not ws.has_table("reviews"):
        return None
    r = ws.table("reviews")
    value = ws.execute(r.filter(r.stage == stage).aggregate(d=r.date.min()))["d"].iloc[0]
    if value is None or value != value:  # None or NaT
        return None
    day: dt.date = value.date() if hasattr(value, "date") else value
    return day


def periods(ws: Any, stage: str, per: str | None) -> ibis.Table:
    """(p_key, child_id, team, p_start, p_end) per stay of ``stage``, or per period of care."""
    st = _stays(ws, stage)
    if per != "period_of_care":
        return st.select(p_key=st.episode_id, child_id=st.child_id, team=st.team, p_start=st.day,
                         p_end=st.end.cast("date"))
    far = ibis.literal(FAR, type="date")
    st = st.mutate(_e=ibis.coalesce(st.end.cast("date"), far))
    upto = ibis.window(group_by=st.child_id, order_by=[st.day, st._e, st.episode_id], preceding=None, following=0)
    st = st.mutate(_reach=st._e.max().over(upto))
    order = ibis.window(group_by=st.child_id, order_by=[st.day, st._e, st.episode_id])
    st = st.mutate(_prev=st._reach.lag().over(order))
    st = st.mutate(_new=ibis.ifelse(st._prev.isnull() | (st._prev < st.day), 1, 0))
    st = st.mutate(_period=st._new.sum().over(upto))
    g = st.group_by([st.child_id, st._period]).aggregate(
        p_start=st.day.min(), _last=st._e.max(), team=st.team.argmin(st.day))
    return g.select(p_key=g.child_id.concat("#", g._period.cast("string")), child_id=g.child_id, team=g.team,
                    p_start=g.p_start, p_end=ibis.ifelse(g._last == far, ibis.null().cast("date"), g._last))


def numbered_reviews(ws: Any, stage: str, p: ibis.Table, as_of: dt.date) -> ibis.Table:
    """The reviews of each stay or period of ``p`` up to ``as_of``: p_key, r_date, r_n (1, 2, ...),
    r_next (the next review's date, null when none yet)."""
    r = ws.table("reviews")
    r = r.filter((r.stage == stage) & (r.date <= ibis.literal(as_of, type="date")))
    r = r.select(r_child=r.child_id, r_date=r.date.cast("date")).distinct()
    j = p.inner_join(r, [p.child_id == r.r_child, r.r_date > p.p_start,
                         p.p_end.isnull() | (r.r_date <= p.p_end)])
    j = j.select("p_key", "r_date").distinct()
    w = ibis.window(group_by=j.p_key, order_by=j.r_date)
    return j.mutate(r_n=ibis.row_number().over(w) + 1, r_next=j.r_date.lead().over(w))


def review_clocks(ws: Any, rule: Rule, as_of: dt.date) -> ibis.Table:
    """(child_id, team, c_start, c_stop, c_cut) per clock of a review ``rule``."""
    c = rule.clock
    stage, start = c["stage"], c["start"]
    p = periods(ws, stage, c.get("per"))
    cov = first_review(ws, stage)
    need_number = not (start.get("review") == "each" and int(start.get("from", 1)) == 1)
    if need_number:
        p = p.filter(p.p_start >= ibis.literal(cov or FAR, type="date"))
    r = numbered_reviews(ws, stage, p, as_of)
    if start.get("at") == "start":  # to the first review
        first = r.filter(r.r_n == 1).select(f_key=r.p_key, c_stop=r.r_date)
        t = p.left_join(first, p.p_key == first.f_key)
        return t.select(child_id=t.child_id, team=t.team, c_start=t.p_start, c_stop=t.c_stop, c_cut=t.p_end)
    n = int(start.get("from", 1)) if start.get("review") == "each" else int(start["review"])
    picked = r.filter(r.r_n >= n) if start.get("review") == "each" else r.filter(r.r_n == n)
    t = picked.inner_join(p, picked.p_key == p.p_key)
    return t.select(child_id=t.child_id, team=t.team, c_start=t.r_date, c_stop=t.r_next, c_cut=t.p_end)


def no_review_table(ws: Any, rule: Rule, as_of: dt.date) -> ibis.Table:
    """The children in a stay matching a never ``rule`` at ``as_of`` (``attrs`` codes, e.g. a care order)
    whose period's latest review (or, without one, the period's start) is more than ``no_review_within``
    before ``as_of``: one row each, ``start`` = that review, ``due`` = it + the limit."""
    from cscflow.practices.clocks import COLUMNS, attrs_filter

    chk = rule.check
    stage, lim = chk["stage"], chk["no_review_within"]
    asof = ibis.literal(as_of, type="date")
    st = attrs_filter(_stays(ws, stage), chk.get("attrs") or {})
    st = st.filter((st.day <= asof) & (st.end.isnull() | (st.end.cast("date") > asof)))
    now = st.select(n_child=st.child_id).distinct()
    p = periods(ws, stage, chk.get("per"))
    p = p.filter((p.p_start <= asof) & (p.p_end.isnull() | (p.p_end > asof)))
    p = p.inner_join(now, p.child_id == now.n_child)
    r = numbered_reviews(ws, stage, p, as_of)
    last = r.group_by(l_key=r.p_key).aggregate(l_date=r.r_date.max())
    t = p.left_join(last, p.p_key == last.l_key)
    t = t.mutate(since=ibis.coalesce(t.l_date, t.p_start))
    unit = str(lim["unit"])
    step = ibis.interval(months=int(lim["amount"])) if unit == "months" else ibis.interval(
        days=int(lim["amount"]) * (7 if unit == "weeks" else 1))
    t = t.mutate(due=(t.since + step).cast("date"))
    t = t.filter(t.due < asof)
    return t.select(rule=ibis.literal(rule.id), child_id=t.child_id, start=t.since, due=t.due,
                    stop=ibis.null().cast("date"), working_days=ibis.null().cast("int64"),
                    status=ibis.literal("breached"), team=t.team).select(*COLUMNS)


def needs_reviews(rule: Rule) -> bool:
    """True when ``rule`` reads the ``reviews`` table."""
    c, chk = rule.clock, rule.check
    return bool(c and ("review" in c.get("start", {}) or "review" in c.get("stop", {}))) or bool(
        chk and chk.get("no_review_within"))


def unavailable_why(ws: Any, rule: Rule, as_of: dt.date) -> str | None:
    """Why the workspace cannot show a review ``rule`` at ``as_of`` (None: it can)."""
    stage = (rule.clock or rule.check)["stage"]
    what = {"looked_after": "the SSDA903 Reviews table", "cp_plan": "a CIN census with CPPreviewDate"}.get(
        stage, "a return with review dates")
    if not ws.has_table("reviews"):
        return "the workspace has no reviews table (load the returns again with this version of cscflow)"
    cov = first_review(ws, stage)
    if cov is None:
        return f"the workspace holds no reviews of {stage} stays (load {what})"
    lim = rule.check.get("no_review_within") if rule.kind == "never" else None
    if lim is not None:
        amount, unit = int(lim["amount"]), str(lim["unit"])
        months = amount if unit == "months" else 0
        days = 0 if unit == "months" else amount * (7 if unit == "weeks" else 1)
        back = months_before(as_of, months, days)
        if back < cov:
            return (f"the reviews of {stage} stays start on {cov}: {amount} {unit} before {as_of} is earlier, so "
                    "a review then would not be seen")
    return None


def months_before(day: dt.date, months: int, days: int) -> dt.date:
    """``day`` less ``months`` (clipped to the month's last day) and ``days``.

    >>> months_before(dt.date(2024, 8, 31), 6, 0)
    datetime.date(2024, 2, 29)
    """
    import calendar

    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(y, m + 1)[1]
    return dt.date(y, m + 1, min(day.day, last)) - dt.timedelta(days=days)


__all__ = ["FAR", "first_review", "needs_reviews", "no_review_table", "numbered_reviews", "periods",
           "review_clocks", "unavailable_why"]
