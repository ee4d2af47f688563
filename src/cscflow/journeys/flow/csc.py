"""The questions Kent's managers asked: re-referrals, NFA after assessment by previous referrals,
strategy discussion -> S47 -> outcome, and rates before and after a date (e.g. an inspection).

These read the canonical stages of ``episodes`` (docs/data-model.md), whatever the map draws.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from cscflow.errors import AnalysisError
from cscflow.journeys.filters import apply_where
from cscflow.journeys.flow.common import DateLike, _setup, in_period, lit, to_timestamp, with_next
from cscflow.journeys.lookback import method_note, visible_from, year_complete
from cscflow.journeys.maps import ProcessMap
from cscflow.journeys.timeline import timelines
from cscflow.journeys.timeline_columns import need_ranks

if TYPE_CHECKING:
    from cscflow.workspace.protocol import WorkspaceLike

_ORDER = ("source", "source_row", "episode_id")
OPEN = "(open)"


def _stage_rows(ws: WorkspaceLike, stage: str) -> ibis.Table:
    """Stays of ``stage`` with the columns the cohort filters need (``repeat`` = need rank)."""
    ep = ws.table("episodes")
    t = ep.filter(ep.stage == stage)
    needs = need_ranks(ws)
    t = t.left_join(needs, [t.child_id == needs.n_child, t.need_id == needs.n_need])
    return t.mutate(repeat=t.need_rank.fill_null(1)).drop("n_child", "n_need", "need_rank")


def referral_flags(
    ws: WorkspaceLike, start: DateLike = None, end: DateLike = None, where: dict[str, Any] | None = None,
    data_start: DateLike = None,
) -> ibis.Table:
    """One row per referral starting in the period: child_id, need_id, start, previous (the child's
    previous referral's start, any time before; referrals the same day are ordered by source row),
    within_12, within_36 (previous within 12 / 36 calendar months: its day on or after the same day
    of the month that many months before the referral's day), complete_12, complete_36 (that
    look-back lies inside the data: it begins on or after the referrals' data start,
    :func:`cscflow.journeys.lookback.visible_from`; where it does not, an earlier referral may be
    unseen and the flag can only be too low), team.

    The one definition of a re-referral: the flow table (:func:`rereferrals`) and the teams' statistic
    (:func:`cscflow.analytics.ready.team_counts`) both count these flags."""
    since = visible_from(ws, "referral", data_start)
    r = _stage_rows(ws, "referral")
    w = ibis.window(group_by=r.child_id, order_by=[r.start, *(r[c] for c in _ORDER)])
    r = r.mutate(previous=r.start.lag().over(w))
    day, prev_day = r.start.cast("date"), r.previous.cast("date")
    r = r.mutate(
        within_12=(r.previous.notnull() & (prev_day >= day - ibis.interval(months=12))).fill_null(False),
        within_36=(r.previous.notnull() & (prev_day >= day - ibis.interval(months=36))).fill_null(False),
        complete_12=(day - ibis.interval(months=12)) >= lit(since).cast("date"),
        complete_36=(day - ibis.interval(months=36)) >= lit(since).cast("date"),
    )
    r = apply_where(ws, r, where)
    r = r.filter(in_period(r.start, start, end))
    return r.select("child_id", "need_id", "start", "previous", "within_12", "within_36", "complete_12",
                    "complete_36", "team")


def repeat_flags(
    ws: WorkspaceLike, stage: str = "cp_plan", start: DateLike = None, end: DateLike = None, data_start: DateLike = None,
) -> ibis.Table:
    """One row per ``stage`` stay (default CP plans) starting in the period: child_id, start, team,
    ``repeat`` (the child's second or subsequent such stay: one began before it, any time before, as
    DfE's "second or subsequent CP plan"), ``complete`` (that whole-life look-back lies inside the
    data: the child was born on or after the stage's data start; else an earlier stay may be unseen
    and the flag can only be too low). Stays the same day are ordered by source row."""
    since = visible_from(ws, stage, data_start)
    ep = ws.table("episodes")
    t = ep.filter(ep.stage == stage)
    w = ibis.window(group_by=t.child_id, order_by=[t.start, *(t[c] for c in _ORDER)])
    t = t.mutate(k=ibis.row_number().over(w))
    ch = ws.table("children").select(b_child="child_id", birth="birth_month")
    t = t.left_join(ch, t.child_id == ch.b_child)
    born = (t.birth.notnull() & (t.birth >= lit(since).cast("date"))).fill_null(False)
    t = t.mutate(repeat=t.k > 0, complete=born)
    t = t.filter(in_period(t.start, start, end))
    return t.select("child_id", "start", "team", "repeat", "complete")


def _pool(rows: pd.DataFrame) -> dict[str, Any]:
    """The "all" row of :func:`rereferrals`: the years complete for both look-backs, else those complete
    for 12 months, else every year (then marked incomplete)."""
    for pick in (rows["complete"], rows["complete_12"], pd.Series(True, index=rows.index)):
        if pick.any():
            g = rows[pick]
            return {"year": "all", "referrals": g["referrals"].sum(), "within_12": g["within_12"].sum(),
                    "within_36": g["within_36"].sum(), "complete_12": bool(g["complete_12"].all()),
                    "complete_36": bool(g["complete_36"].all()), "years": ", ".join(g["year"])}
    return {"year": "all", "referrals": 0, "within_12": 0, "within_36": 0, "complete_12": False,
            "complete_36": False, "years": ""}


def rereferrals(
    ws: WorkspaceLike, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None, data_start: DateLike = None,
) -> pd.DataFrame:
    """Re-referral rates by financial year of referral and overall.

    Columns: year ("2023-24" ... and "all"), referrals, within_12, rate_12, within_36, rate_36,
    complete_12, complete_36 (every referral of the year has its 12 / 36-month look-back inside the
    data), complete (both). A year whose look-back reaches before the data start is kept but marked
    incomplete: its rate can only be too low. The "all" row pools the complete years only (both
    look-backs; failing that, the years complete for 12 months; failing that, every year, marked
    incomplete), named in the method sentence, ``.attrs["method"]``.
    Kent found ~23% within 12 months and 60% within 36 (Coram/Nuffield 2019, section 8).
    """
    since = visible_from(ws, "referral", data_start)
    f = referral_flags(ws, start, end, where, data_start=since)
    fy = ibis.ifelse(f.start.month() >= 4, f.start.year(), f.start.year() - 1)
    f = f.mutate(fy=fy)
    agg = f.group_by("fy").aggregate(
        referrals=f.count(), within_12=f.within_12.cast("int64").sum(), within_36=f.within_36.cast("int64").sum()
    )
    df = ws.execute(agg).sort_values("fy")
    df["year"] = [f"{int(y)}-{(int(y) + 1) % 100:02d}" for y in df["fy"]]
    df["complete_12"] = [year_complete(int(y), 12, since) for y in df["fy"]]
    df["complete_36"] = [year_complete(int(y), 36, since) for y in df["fy"]]
    df["complete"] = df["complete_12"] & df["complete_36"]
    total = pd.DataFrame([_pool(df)])
    total["complete"] = total["complete_12"] & total["complete_36"]
    out = pd.concat([df.drop(columns="fy"), total], ignore_index=True)
    for c in ("referrals", "within_12", "within_36"):
        out[c] = out[c].fillna(0).astype("int64")
    for c in ("complete_12", "complete_36", "complete"):
        out[c] = out[c].astype(bool)
    denom = out["referrals"].where(out["referrals"] > 0)
    out["rate_12"] = out["within_12"] / denom
    out["rate_36"] = out["within_36"] / denom
    out = out[["year", "referrals", "within_12", "rate_12", "within_36", "rate_36", "complete_12", "complete_36",
               "complete"]]
    out.attrs["data_start"] = since
    out.attrs["method"] = (
        "Re-referral: a referral whose child had a previous referral within 12 (36) calendar months, by "
        "financial year of referral. " + method_note("referral", since)
        + " The 'all' row pools the complete years only" + (f" ({total['years'].iloc[0]})." if
                                                            total["years"].iloc[0] else "."))
    return out


def nfa_by_prior(
    ws: WorkspaceLike, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None, cap: int = 5, lookback_months: int | None = None,
    data_start: DateLike = None,
) -> pd.DataFrame:
    """Completed assessments ending in NFA, by the child's number of previous referrals.

    Previous referrals = referrals of the child before the assessment's own referral (matched by
    need_id; assessments without a matching referral are left out), any time before (the default)
    or within ``lookback_months`` of it. Columns: previous_referrals ("0" ... "cap+"), complete,
    assessments, nfa, rate. Each bucket has up to two rows: ``complete`` True for the assessments
    whose look-back lies inside the data (a whole-life look-back: children born on or after the
    referrals' data start; else the referral on or after the data start plus ``lookback_months``),
    False for the others, whose counts of previous referrals may be too low (they sit in too low a
    bucket). Read the complete rows; the method sentence is in ``.attrs["method"]``.
    """
    since = visible_from(ws, "referral", data_start)
    a = _stage_rows(ws, "assessment")
    a = apply_where(ws, a, where)
    a = a.filter(a.end.notnull() & in_period(a.start, start, end))
    ep = ws.table("episodes")
    r = ep.filter((ep.stage == "referral") & ep.need_id.notnull())
    w = ibis.window(group_by=r.child_id, order_by=[r.start, *(r[c] for c in _ORDER)])
    r = r.mutate(k=ibis.row_number().over(w))
    own = r.group_by([r.child_id.name("r_child"), r.need_id.name("r_need")]).aggregate(
        k=r.k.min(), r_start=r.start.min())
    if lookback_months is None:
        j = a.join(own, [a.child_id == own.r_child, a.need_id == own.r_need])
        j = j.mutate(prior=j.k)
        ch = ws.table("children").select(b_child="child_id", birth="birth_month")
        j = j.left_join(ch, j.child_id == ch.b_child)
        j = j.mutate(ok=(j.birth.notnull() & (j.birth >= lit(since).cast("date"))).fill_null(False))
    else:
        own = own.mutate(back=own.r_start - ibis.interval(months=int(lookback_months)))
        prev = r.select(p_child=r.child_id, p_start=r.start, p_k=r.k)
        o = own.left_join(prev, [own.r_child == prev.p_child, prev.p_k < own.k, prev.p_start >= own.back])
        o = o.group_by(["r_child", "r_need", "r_start"]).aggregate(prior=o.p_k.count())
        j = a.join(o, [a.child_id == o.r_child, a.need_id == o.r_need])
        j = j.mutate(ok=(j.r_start.cast("date") - ibis.interval(months=int(lookback_months))) >= lit(since).cast("date"))
    j = j.mutate(bucket=ibis.least(j.prior, cap), nfa=(j.outcome == "nfa").fill_null(False).cast("int64"))
    df = ws.execute(j.group_by(["bucket", "ok"]).aggregate(assessments=j.count(), nfa=j.nfa.sum()))
    df = df.sort_values(["ok", "bucket"], ascending=[False, True])
    df["previous_referrals"] = [f"{int(b)}+" if b >= cap else str(int(b)) for b in df["bucket"]]
    df["complete"] = df["ok"].astype(bool)
    df["assessments"] = df["assessments"].astype("int64")
    df["nfa"] = df["nfa"].astype("int64")
    df["rate"] = df["nfa"] / df["assessments"]
    out = df[["previous_referrals", "complete", "assessments", "nfa", "rate"]].reset_index(drop=True)
    window = "ever" if lookback_months is None else f"within {int(lookback_months)} months"
    out.attrs["data_start"] = since
    out.attrs["method"] = (
        f"NFA after assessment by the child's previous referrals ({window}). " + method_note("referral", since)
        + (" A whole-life look-back is complete only for children born on or after it." if lookback_months is None
           else ""))
    return out


def s47_outcomes(
    ws: WorkspaceLike, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Strategy discussion -> S47 -> ICPC -> outcome, for strategy discussions starting in the period.

    The S47 of a strategy discussion is the first S47 of the same need starting on or after it; the
    ICPC the first of that need on or after the S47. Columns: step, outcome, n, of, share, where step
    is "strategy_discussion" (outcome "s47" or the discussion's own outcome), "s47" (outcome of the
    S47s that followed one), "icpc" (outcome of those conferences) and "final" (where the path ended:
    the last step's outcome). "(open)" marks steps still open.
    """
    sd = _stage_rows(ws, "strategy_discussion")
    sd = apply_where(ws, sd, where)
    sd = sd.filter(in_period(sd.start, start, end))
    sd = sd.select(sd_child=sd.child_id, sd_need=sd.need_id, sd_start=sd.start, sd_end=sd.end,
                   sd_outcome=sd.outcome, sd_id=sd.episode_id, sd_row=sd.source_row, sd_src=sd.source)

    def first_after(left: ibis.Table, stage: str, pre: str, child: str, need: str, after: str) -> ibis.Table:
        ep = ws.table("episodes")
        s = ep.filter(ep.stage == stage).select(**{f"{pre}_child": ep.child_id, f"{pre}_need": ep.need_id,
                                                  f"{pre}_start": ep.start, f"{pre}_end": ep.end,
                                                  f"{pre}_outcome": ep.outcome, f"{pre}_k": ep.episode_id})
        j = left.left_join(s, [left[child] == s[f"{pre}_child"], left[need] == s[f"{pre}_need"],
                               s[f"{pre}_start"] >= left[after]])
        keys = [c for c in left.columns]
        w = ibis.window(group_by=[j.sd_id, j.sd_child, j.sd_row, j.sd_src],
                        order_by=[j[f"{pre}_start"], j[f"{pre}_k"]])
        j = j.mutate(**{f"{pre}_n": ibis.row_number().over(w)})
        return j.filter(j[f"{pre}_n"] == 0).select(*keys, *[c for c in s.columns])

    j = first_after(sd, "s47", "s", "sd_child", "sd_need", "sd_start")
    j = first_after(j, "icpc", "i", "s_child", "s_need", "s_start")
    df = ws.execute(j.select("sd_end", "sd_outcome", "s_child", "s_end", "s_outcome", "i_child", "i_end",
                             "i_outcome"))

    def outcome(end: pd.Series, out: pd.Series) -> pd.Series:
        return out.where(end.notna(), OPEN).fillna("(unknown)")

    has_s = df["s_child"].notna()
    has_i = df["i_child"].notna()
    sd_out = outcome(df["sd_end"], df["sd_outcome"]).where(~has_s, "s47")
    s_out = outcome(df["s_end"], df["s_outcome"])[has_s]
    i_out = outcome(df["i_end"], df["i_outcome"])[has_i]
    final = sd_out.copy()
    final[has_s] = s_out
    final[has_i] = i_out
    parts = []
    for step, values in (("strategy_discussion", sd_out), ("s47", s_out), ("icpc", i_out), ("final", final)):
        c = values.value_counts()
        parts.append(pd.DataFrame({"step": step, "outcome": c.index.astype(str), "n": c.to_numpy(dtype="int64"),
                                   "of": int(len(values))}))
    out = pd.concat(parts, ignore_index=True)
    out["share"] = out["n"] / out["of"].where(out["of"] > 0)
    out = out.sort_values(["step", "n", "outcome"], ascending=[True, False, True], kind="stable")
    steps = {"strategy_discussion": 0, "s47": 1, "icpc": 2, "final": 3}
    return out.sort_values("step", key=lambda s: s.map(steps), kind="stable").reset_index(drop=True)


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> dict[str, float]:
    """Difference p2 - p1 with the pooled two-proportion z test and Fisher's exact test (two-sided).

    >>> r = two_proportions(10, 100, 30, 100)
    >>> round(r["difference"], 2), r["p_z"] < 0.01, r["p_fisher"] < 0.01
    (0.2, True, True)
    """
    p1 = k1 / n1 if n1 else float("nan")
    p2 = k2 / n2 if n2 else float("nan")
    pooled = (k1 + k2) / (n1 + n2) if n1 + n2 else float("nan")
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) if n1 and n2 else float("nan")
    z = (p2 - p1) / se if se and not math.isnan(se) else float("nan")
    from scipy.special import ndtr  # scipy.special, not scipy.stats: 0.07 s to import instead of 0.8 s

    p_z = float(2 * ndtr(-abs(z))) if not math.isnan(z) else float("nan")
    p_f = fisher_exact_p(k1, n1, k2, n2) if n1 and n2 else float("nan")
    return {"difference": p2 - p1, "z": z, "p_z": p_z, "p_fisher": p_f}


def fisher_exact_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test of the 2x2 table [[k1, n1-k1], [k2, n2-k2]]: the total
    probability, given the margins, of the tables no more likely than the one seen (the definition
    ``scipy.stats.fisher_exact`` uses, with its relative tolerance of 1e-7; tested against it).

    >>> round(fisher_exact_p(1, 10, 7, 10), 6)
    0.019767
    """
    import numpy as np
    from scipy.special import gammaln

    m, n, t = n1, n2, k1 + k2  # first-row size, second-row size, successes in all
    lo, hi = max(0, t - n), min(t, m)
    x = np.arange(lo, hi + 1)

    def logc(a: Any, b: Any) -> Any:
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    logp = logc(m, x) + logc(n, t - x) - logc(m + n, t)
    seen = logp[k1 - lo]
    keep = logp <= seen + math.log1p(1e-7)
    return float(min(1.0, np.exp(logp[keep]).sum()))


def before_after(
    ws: WorkspaceLike, pmap: ProcessMap | str = "england", start: DateLike = None, end: DateLike = None,
    where: dict[str, Any] | None = None, at: DateLike = None, source: str = "assessment", target: str = "nfa",
) -> pd.DataFrame:
    """The share of stays at ``source`` followed directly by ``target``, before and after date ``at``.

    ``at`` defaults to the latest event in the workspace's ``events`` table (e.g. an Ofsted inspection).
    Before = stays starting in [start, at), after = [at, end]. Columns: period, source, target, from, to,
    stays, converted, rate, difference, z, p_z, p_fisher (the last four compare after with before:
    pooled two-proportion z test and Fisher's exact test, two-sided).
    """
    pmap = _setup(ws, pmap)
    when = to_timestamp(at, "--at")
    if when is None:
        ev = ws.table("events")
        latest = ws.execute(ev.aggregate(d=ev.date.max()))["d"].iloc[0]
        if latest is None or pd.isna(latest):
            raise AnalysisError("before-after needs a date and the workspace has no events",
                                hint="give --at YYYY-MM-DD (e.g. the date of an inspection)")
        when = pd.Timestamp(latest)
    for s in (source, target):
        if s not in pmap.station_ids:
            raise AnalysisError(f"map {pmap.name!r} has no station {s!r}",
                                hint=f"use one of {', '.join(pmap.station_ids)}")
    t = with_next(timelines(ws, pmap, where))
    t = t.filter((t.station == source) & in_period(t.start, start, end))
    t = t.mutate(after=t.start >= ibis.literal(when.to_pydatetime(), type="timestamp"),
                 hit=(t.next_station == target).fill_null(False).cast("int64"))
    df = ws.execute(t.group_by("after").aggregate(stays=t.count(), converted=t.hit.sum(), first=t.start.min(),
                                                  last=t.start.max()))
    rows: list[dict[str, Any]] = []
    for flag, name in ((False, "before"), (True, "after")):
        g = df[df["after"] == flag]
        n = int(g["stays"].sum()) if len(g) else 0
        k = int(g["converted"].sum()) if len(g) else 0
        rows.append({"period": name, "source": source, "target": target,
                     "from": None if not len(g) else pd.Timestamp(g["first"].iloc[0]).date(),
                     "to": None if not len(g) else pd.Timestamp(g["last"].iloc[0]).date(),
                     "stays": n, "converted": k, "rate": k / n if n else float("nan")})
    test = two_proportions(rows[0]["converted"], rows[0]["stays"], rows[1]["converted"], rows[1]["stays"])
    out = pd.DataFrame(rows)
    for key, value in test.items():
        out[key] = value
    out["at"] = when.date()
    return out
