"""Ready-made analyses on a workspace: leaving-care curves by cohort, routes out of care,
time to re-referral, referral to CP plan or care, and return to care.

Table work is Ibis on the workspace engine (DuckDB or Spark); only one row per period of care
(or per referral) comes back to pandas for the estimators. Periods of care merge consecutive
``looked_after`` rows (single SSDA903 episodes) of a child until a row whose ``rne`` is ``S``
(or, without an ``rne``, a gap between rows) starts a new period.

>>> import tempfile
>>> from cscflow import Workspace
>>> ws = Workspace(tempfile.mkdtemp(), la="886")
>>> periods_of_care(ws).empty
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cscflow.analytics.competing import CumulativeIncidence
from cscflow.analytics.funnel import FunnelPlot
from cscflow.analytics.survival import KaplanMeier, KaplanMeierGroups
from cscflow.analytics.windows import observe, source_windows, window_of
from cscflow.errors import AnalysisError
from cscflow.model.codes import rec_routes

DAY = np.timedelta64(1, "D")

#: SSDA903 reason episode ceased (REC) -> route out of care, every code of every collection year, from
#: the code list (:func:`cscflow.model.codes.rec_routes`: E45-E48 special guardianship orders, E43/E44
#: their codes to the 2018 schema; E5/E6 independent living, E17 staying put at 18, E7 adult social care).
ROUTE_OF_REC = rec_routes()
#: a period whose REC is unknown takes the route of its outcome (an exit); anything else is "other"
ROUTE_OF_OUTCOME = {"returned_home": "home", "left_care_18": "18+", "permanence": "sgo/cao"}
ROUTES = ["home", "sgo/cao", "adoption", "18+", "other"]
AGE_BANDS = [(0, 1, "under 1"), (1, 5, "1-4"), (5, 10, "5-9"), (10, 16, "10-15"), (16, 99, "16+")]


def _json(col: ibis.Value, key: str) -> ibis.Value:
    return col.cast("json")[key].unwrap_as("string")


def _as_of(ws: Any, as_of: Any, windows: pd.DataFrame | None = None) -> pd.Timestamp:
    """``as_of`` as a Timestamp; by default the last date in the workspace, or the end of the latest
    source window in ``windows`` (:func:`source_windows`: 31 March of the last SSDA903 return) if later."""
    if as_of is not None:
        return pd.Timestamp(as_of)
    ep = ws.table("episodes")
    last = ws.execute(ep.aggregate(a=ep.start.max(), b=ep.end.max()))
    vals = [v for v in last.iloc[0].tolist() if pd.notna(v)]
    if not vals:
        raise AnalysisError(f"no episodes in workspace {ws.path}", hint="load data first (`cscflow load`)")
    if windows is not None and windows["end"].notna().any():
        vals.append(windows["end"].max())
    return pd.Timestamp(max(pd.Timestamp(v) for v in vals))


def periods_of_care(ws: Any, windows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per period of care: child_id, period, start, end (NaT = open), rec, outcome,
    legal_status (at entry), birth_month, route; ``origin_known`` (False when the period's first
    row in the data is not the start of a period: SSDA903 RNE other than S, so the period began
    before the data and its true start is unknown); ``window_start`` and ``window_end``: the
    reporting window of the period's sources (:mod:`cscflow.analytics.windows`; the earliest start
    and latest end over the sources of its rows; ``windows``: :func:`source_windows`, if already read)."""
    ep = ws.table("episodes")
    la = ep.filter(ep.stage == "looked_after")
    win = window_of(ws, windows)
    if len(win):
        la = la.left_join(ibis.memtable(win), "source").select(*la.columns, "window_start", "window_end")
    else:
        la = la.mutate(window_start=ibis.null("timestamp"), window_end=ibis.null("timestamp"))
    la = la.select(
        "child_id", "start", "end", "outcome", "window_start", "window_end", rne=_json(la.attrs, "rne"),
        legal_status=_json(la.attrs, "legal_status"), rec=_json(la.attrs, "rec"))
    w = ibis.window(group_by="child_id", order_by=["start"])
    prev_end = la.end.lag().over(w)
    # a row without an RNE continues the period unless a gap precedes it (NULL OR FALSE is NULL in SQL)
    new = (la.rne == "S").fill_null(False) | prev_end.isnull() | (la.start > prev_end)
    la = la.mutate(new=ibis.ifelse(new.fill_null(True), 1, 0))
    la = la.mutate(period=la.new.sum().over(ibis.window(group_by="child_id", order_by=["start"], rows=(None, 0))))
    last_w = ibis.window(group_by=["child_id", "period"], order_by=[ibis.desc("start")])
    la = la.mutate(rn=ibis.row_number().over(last_w),
                   first_ls=la.legal_status.first().over(ibis.window(group_by=["child_id", "period"],
                                                                      order_by=["start"])),
                   first_rne=la.rne.first().over(ibis.window(group_by=["child_id", "period"], order_by=["start"])))
    agg = la.group_by(["child_id", "period"]).aggregate(
        start=la.start.min(),
        end=la.end.max(),
        open_rows=(la.end.isnull()).sum(),
        legal_status=la.first_ls.max(),
        rec=la.rec.max(where=la.rn == 0),
        outcome=la.outcome.max(where=la.rn == 0),
        first_rne=la.first_rne.max(),
        window_start=la.window_start.min(),
        window_end=la.window_end.max(),
    )
    ch = ws.table("children").select("child_id", "birth_month")
    agg = agg.left_join(ch, "child_id").select(*agg.columns, "birth_month")
    df = ws.execute(agg)
    if df.empty:
        return pd.DataFrame(columns=["child_id", "period", "start", "end", "rec", "outcome", "legal_status",
                                     "birth_month", "route", "origin_known", "window_start", "window_end"])
    df.loc[df["open_rows"] > 0, "end"] = pd.NaT
    df["origin_known"] = df["first_rne"].fillna("").isin(["S", ""])
    df = df.drop(columns=["open_rows", "first_rne"])
    df["window_start"], df["window_end"] = pd.to_datetime(df["window_start"]), pd.to_datetime(df["window_end"])
    df["start"], df["end"] = pd.to_datetime(df["start"]), pd.to_datetime(df["end"])
    df["birth_month"] = pd.to_datetime(df["birth_month"])
    route = df["rec"].map(ROUTE_OF_REC).fillna(df["outcome"].map(ROUTE_OF_OUTCOME)).fillna("other")
    df["route"] = route.where(df["end"].notna(), None)
    return df.sort_values(["child_id", "start"]).reset_index(drop=True)


def _age_band(start: pd.Series, birth: pd.Series) -> pd.Series:
    # completed years (birth_month is the 1st of the month of birth)
    before = (start.dt.month < birth.dt.month) | ((start.dt.month == birth.dt.month) & (start.dt.day < birth.dt.day))
    age = start.dt.year - birth.dt.year - before.astype(int)
    out = pd.Series("unknown", index=start.index, dtype=object)
    for lo, hi, lab in AGE_BANDS:
        out[(age >= lo) & (age < hi)] = lab
    return out


def _with_proceedings(ws: Any, periods: pd.DataFrame, before_days: int = 182) -> pd.Series:
    p = ws.table("proceedings")
    pr = ws.execute(p.filter(p.child_id.notnull()).select("child_id", "application_date"))
    if pr.empty:
        return pd.Series("without proceedings", index=periods.index)
    pr["application_date"] = pd.to_datetime(pr["application_date"])
    m = periods.reset_index().merge(pr, on="child_id")
    end = m["end"].fillna(pd.Timestamp.max)
    hit = (m["application_date"] >= m["start"] - before_days * DAY) & (m["application_date"] <= end)
    ids = set(m.loc[hit, "index"])
    return pd.Series(np.where(periods.index.isin(ids), "with proceedings", "without proceedings"),
                     index=periods.index)


COHORTS = ("proceedings", "legal_status", "age_at_entry", "entry_year")


def _observed(ws: Any, as_of: Any, window_start: Any, truncate: bool) -> tuple[Any, Any]:
    windows = source_windows(ws)
    per = periods_of_care(ws, windows)
    if per.empty:
        raise AnalysisError(f"no looked_after episodes in workspace {ws.path}", hint="load SSDA903 data first")
    obs = observe(per, _as_of(ws, as_of, windows), window_start, truncate, windows, source_end=as_of is None)
    if obs.periods.empty:
        raise AnalysisError(f"no period of care is observed by {obs.censor:%Y-%m-%d} in workspace {ws.path}",
                            hint="choose a later --as-of")
    return obs, obs.periods


_PERIOD = ("a period of care is a child's consecutive episodes of care, from the first (SSDA903 RNE = S, "
           "or after a gap) to the day the child left")


def leaving_care(ws: Any, by: str | None = None, as_of: Any = None, window_start: Any = None,
                 alpha: float = 0.05, truncate: bool = True) -> KaplanMeier | KaplanMeierGroups:
    """Leaving-care curves: days from entering care to leaving, censored at ``as_of`` (default: the
    last date in the workspace). ``by``: None, "proceedings" (care proceedings applied for from 26
    weeks before entry to leaving), "legal_status" (at entry), "age_at_entry" or "entry_year".

    Periods begun before the start of their source's data (the collection year of the first SSDA903
    return loaded, an event log's first date) enter the risk set late, at that date (left
    truncation); periods first seen part-way through are left out (see :func:`observe`).
    ``window_start`` replaces every source's window start; ``truncate=False`` turns late entry off.
    The fitter's ``method_`` says what was done."""
    obs, per = _observed(ws, as_of, window_start, truncate)
    dur, event, entry = obs.duration, obs.event, obs.entry
    if by is None:
        km = KaplanMeier(alpha, label="all periods of care").fit(dur, event, entry=entry)
        km.method_ = (f"Kaplan-Meier estimate of time to leaving care ({len(per):,} periods of care, "
                      f"{int(event.sum()):,} left; {_PERIOD}); {obs.clause()}.")
        return km
    if by == "proceedings":
        groups = _with_proceedings(ws, per)
    elif by == "legal_status":
        groups = per["legal_status"].fillna("unknown")
    elif by == "age_at_entry":
        groups = _age_band(per["start"], per["birth_month"])
    elif by == "entry_year":
        groups = per["start"].dt.year.astype(str)
    else:
        raise AnalysisError(f"unknown cohort {by!r}", hint=f"use one of {', '.join(COHORTS)}")
    kg = KaplanMeierGroups(alpha).fit(dur, event, np.asarray(groups, dtype=str), entry=entry)
    kg.method_ = (f"Kaplan-Meier estimates of time to leaving care by {by.replace('_', ' ')} ({len(per):,} "
                  f"periods of care; {_PERIOD}), compared with the log-rank test; {obs.clause()}.")
    return kg


def routes_out_of_care(ws: Any, as_of: Any = None, window_start: Any = None,
                       truncate: bool = True) -> CumulativeIncidence:
    """Cumulative incidence of leaving care by each route (home, SGO/CAO, adoption, 18+, other),
    with the same late entry and censoring as :func:`leaving_care`."""
    obs, per = _observed(ws, as_of, window_start, truncate)
    routes = per["route"].where(pd.Series(obs.event, index=per.index), None)
    causes = [r for r in ROUTES if r in set(routes.dropna())]
    ci = CumulativeIncidence().fit(obs.duration, routes.to_numpy(object), entry=obs.entry, causes=causes)
    ci.method_ = (f"Aalen-Johansen estimate of the cumulative incidence of leaving care by each route "
                  f"({', '.join(causes)}; {len(per):,} periods of care, children still in care censored; "
                  f"{_PERIOD}); {obs.clause()}.")
    return ci


def _starts(ws: Any, stage: str, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Starts of ``stage`` (child_id, start, need_id), sorted; only those on or before ``as_of``
    (nothing after it is seen)."""
    ep = ws.table("episodes")
    t = ep.filter(ep.stage == stage)
    if as_of is not None:
        t = t.filter(t.start < ibis.literal((as_of.normalize() + pd.Timedelta(days=1)).to_pydatetime(),
                                            type="timestamp"))
    df = ws.execute(t.select("child_id", "start", "need_id"))
    df["start"] = pd.to_datetime(df["start"])
    return df.sort_values(["child_id", "start"]).reset_index(drop=True)


def _referral_origins(ws: Any, as_of: Any, data_start: Any) -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    """Referrals seen by ``as_of`` with ``next_ref`` (the child's next referral, NaT if none by then)
    and ``origin`` (begun on or after the referrals' data start: only these are followed)."""
    from cscflow.journeys.lookback import visible_from

    as_of = _as_of(ws, as_of)
    ref = _starts(ws, "referral", as_of)
    if ref.empty:
        raise AnalysisError(f"no referrals on or before {as_of:%Y-%m-%d} in workspace {ws.path}",
                            hint="load Annex A or CIN data first, or choose a later --as-of")
    since = visible_from(ws, "referral", data_start)
    ref["next_ref"] = ref.groupby("child_id")["start"].shift(-1)
    ref["origin"] = ref["start"] >= since
    return ref, as_of, since


def _followed(what: str, n: int, events: int, as_of: pd.Timestamp, since: pd.Timestamp, dropped: int) -> str:
    return (f"Kaplan-Meier estimate of {what} ({n:,} referrals begun from {since:%Y-%m-%d}, the referrals' data "
            f"start, to {as_of:%Y-%m-%d}; {events:,} events); nothing after {as_of:%Y-%m-%d} is seen: later "
            f"referrals are dropped and later events censored at it"
            + (f"; {dropped:,} referrals begun before the data start (seen only because their episode of need "
               "lasted) are not followed" if dropped else "") + ".")


def time_to_rereferral(ws: Any, as_of: Any = None, data_start: Any = None) -> KaplanMeier:
    """Days from each referral to the same child's next referral, censored at ``as_of`` (default: the
    last date in the workspace). Referrals after ``as_of`` are not seen; referrals begun before the
    referrals' data start (:func:`cscflow.journeys.lookback.visible_from`, or ``data_start``) are
    not followed. ``method_`` says what was done."""
    ref, as_of, since = _referral_origins(ws, as_of, data_start)
    sel = ref[ref["origin"]]
    end = sel["next_ref"].fillna(as_of)
    dur = ((end - sel["start"]) / DAY).to_numpy(float)
    event = sel["next_ref"].notna().to_numpy()
    km = KaplanMeier(label="time to re-referral").fit(np.maximum(dur, 0), event)
    km.method_ = _followed("time from a referral to the child's next referral", len(sel), int(event.sum()), as_of,
                           since, int((~ref["origin"]).sum()))
    return km


def referral_to(ws: Any, target: str = "cp_plan", as_of: Any = None, data_start: Any = None) -> KaplanMeier:
    """Days from a referral to the child's first ``target`` stage (cp_plan or looked_after) before
    the next referral; censored at the next referral or ``as_of`` (nothing after it is seen; see
    :func:`time_to_rereferral` for the data start). ``method_`` says what was done."""
    if target not in ("cp_plan", "looked_after"):
        raise AnalysisError(f"unknown target {target!r}", hint="use cp_plan or looked_after")
    ref, as_of, since = _referral_origins(ws, as_of, data_start)
    dropped = int((~ref["origin"]).sum())
    ref = ref[ref["origin"]].reset_index(drop=True)
    ref["next_ref"] = ref["next_ref"].fillna(as_of)
    tgt = _starts(ws, target, as_of)[["child_id", "start"]].rename(columns={"start": "t"})
    m = ref.reset_index().merge(tgt, on="child_id", how="left")
    ok = (m["t"] >= m["start"]) & (m["t"] < m["next_ref"])
    first = m[ok].groupby("index")["t"].min()
    hit = ref.index.isin(first.index)
    end = pd.Series(ref["next_ref"].to_numpy(), index=ref.index)
    end[hit] = first.reindex(ref.index[hit]).to_numpy()
    dur = ((end - ref["start"]) / DAY).to_numpy(float)
    label = {"cp_plan": "referral to CP plan", "looked_after": "referral to care"}[target]
    km = KaplanMeier(label=label).fit(np.maximum(dur, 0), hit)
    km.method_ = _followed(f"time from a referral to the child's first {label.split(' to ')[1]} before the next "
                           "referral (censored at the next referral)", len(ref), int(hit.sum()), as_of, since,
                           dropped)
    return km


def return_to_care(ws: Any, as_of: Any = None, routes: tuple[str, ...] = ("home", "other")) -> KaplanMeier:
    """Days from leaving care (by ``routes``, default home and other) to the next period of care.

    Only leavings on or before ``as_of`` count, and a return after it is censored at it; with no
    ``as_of`` each leaving is censored at the end of its source's window (the last SSDA903 return's
    31 March, an event log's last date)."""
    windows = source_windows(ws)
    allp = periods_of_care(ws, windows)
    if allp["end"].notna().sum() == 0:
        raise AnalysisError(f"no child left care in workspace {ws.path}", hint="load SSDA903 data first")
    given, as_of = as_of is not None, _as_of(ws, as_of, windows)
    allp["next_start"] = allp.groupby("child_id")["start"].shift(-1)
    censor = pd.Series(as_of, index=allp.index)
    if not given:
        censor = allp["window_end"].where(allp["window_end"].notna() & (allp["window_end"] < as_of), as_of)
    keep = allp["end"].notna() & (allp["end"] <= censor) & allp["route"].isin(routes)
    left, censor = allp[keep], censor[keep]
    if left.empty:
        raise AnalysisError(f"no child left care home or otherwise by {as_of:%Y-%m-%d} in workspace {ws.path}",
                            hint="choose a later --as-of")
    returned = left["next_start"].notna() & (left["next_start"] <= censor)
    end = left["next_start"].where(returned, censor)
    dur = ((end - left["end"]) / DAY).to_numpy(float)
    km = KaplanMeier(label="return to care").fit(np.maximum(dur, 0), returned.to_numpy())
    km.method_ = (f"Kaplan-Meier estimate of time from leaving care ({', '.join(routes)}: {len(left):,} leavings, "
                  f"{int(returned.sum()):,} came back) to the start of the child's next period of care; "
                  f"censored at {as_of:%Y-%m-%d}" + ("" if given else " (or at the end of the leaving's source, "
                                                        "if earlier)") + ".")
    return km


ANALYSES: dict[str, Callable[..., Any]] = {
    "leaving-care": leaving_care,
    "routes": routes_out_of_care,
    "rereferral": time_to_rereferral,
    "referral-to-cp": lambda ws, **kw: referral_to(ws, "cp_plan", **kw),
    "referral-to-care": lambda ws, **kw: referral_to(ws, "looked_after", **kw),
    "return-to-care": return_to_care,
}


#: team funnel measure -> (description, stage the team is read from)
TEAM_MEASURES = {
    "assessment-45wd": ("Assessments authorised within 45 working days of the referral", "assessment"),
    "assessment-nfa": ("Assessments ending in no further action", "assessment"),
    "cp-repeat": ("CP plans that were the child's second or later", "cp_plan"),
    "rereferral": ("Referrals within 12 months of the child's previous referral", "referral"),
}


def team_counts(ws: Any, measure: str = "assessment-45wd", year: int | None = None) -> pd.DataFrame:
    """Per team: ``numerator`` and ``denominator`` of ``measure`` (see :data:`TEAM_MEASURES`) for
    the stays that ended (assessments) or began (plans, referrals) in the collection ``year`` ending
    31 March (default: the latest year the data reach). Computed in the workspace engine.

    The look-back measures (``rereferral``, ``cp-repeat``) add ``complete``: False where the team's
    look-back reaches before the data start (:mod:`cscflow.journeys.lookback`), so the share can only
    be too low; ``.attrs["complete"]`` (all teams) and ``.attrs["method"]`` say so.

    ``assessment-45wd`` is the key practice of the same name (:mod:`cscflow.practices`, ``rules.yaml``):
    its clocks, from the referral to the assessment's authorisation, that stopped in the year, met or
    breached: the same count as ``cscflow practices --rule assessment-45wd``."""
    if measure not in TEAM_MEASURES:
        raise AnalysisError(f"unknown team measure {measure!r}", hint=f"use one of {', '.join(TEAM_MEASURES)}")
    stage = TEAM_MEASURES[measure][1]
    if year is None:
        last = _as_of(ws, None)
        year = last.year + (1 if last.month >= 4 else 0)
    lo, hi = pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year, 4, 1)
    ep = ws.table("episodes")
    st = ep.filter(ep.stage == stage)
    if measure == "assessment-45wd":
        t = _practice_clocks(ws, measure, lo, hi)
    elif measure == "assessment-nfa":
        done = st.filter(st.end.notnull() & (st.end >= lo) & (st.end < hi) & st.team.notnull())
        t = done.mutate(hit=ibis.ifelse(done.outcome == "nfa", 1, 0))
    else:
        from cscflow.journeys.flow.csc import referral_flags, repeat_flags
        from cscflow.journeys.lookback import method_note, visible_from, year_complete

        since = visible_from(ws, stage)
        period = (lo, hi - pd.Timedelta(days=1))
        if measure == "cp-repeat":  # second or subsequent ever: a look-back over the child's whole life
            t = repeat_flags(ws, "cp_plan", *period, data_start=since)
            t = t.filter(t.team.notnull())
            t = t.mutate(hit=ibis.ifelse(t.repeat, 1, 0), ok=ibis.ifelse(t.complete, 1, 0))
            what = "second or subsequent CP plans (any time before, a whole-life look-back: complete only " \
                   "where every child was born on or after the data start)"
        else:  # within 12 months: the flags of the flow table (journeys.flow.csc.referral_flags)
            t = referral_flags(ws, *period, data_start=since)
            t = t.filter(t.team.notnull())
            t = t.mutate(hit=ibis.ifelse(t.within_12, 1, 0), ok=1 if year_complete(year - 1, 12, since) else 0)
            what = "re-referrals within 12 months"
        agg = t.group_by("team").aggregate(numerator=t.hit.sum(), denominator=t.count(),
                                           complete=t.ok.min()).order_by("team")
        df = ws.execute(agg)
        df["complete"] = df["complete"].fillna(0).astype(int).astype(bool)
        df.attrs["complete"] = bool(df["complete"].all())
        df.attrs["data_start"] = since
        df.attrs["method"] = method_note(stage, since, what)
    if measure.startswith("assessment"):
        df = ws.execute(t.group_by("team").aggregate(numerator=t.hit.sum(), denominator=t.count()).order_by("team"))
    df["numerator"] = df["numerator"].astype("int64")
    df["denominator"] = df["denominator"].astype("int64")
    df.attrs["year"] = year
    if measure == "assessment-45wd":
        df.attrs["method"] = (
            "Assessments authorised in the year within 45 working days of the referral (the key practice "
            "assessment-45wd of cscflow.practices, the same clocks as `cscflow practices`: from the referral "
            "of the assessment's episode of need, England bank holidays skipped, the referral day being "
            "day 0), by the assessment's team.")
    return df


def _practice_clocks(ws: Any, rule_id: str, lo: pd.Timestamp, hi: pd.Timestamp) -> Any:
    """The clocks of practice ``rule_id`` that stopped in [lo, hi) with a team, ``hit`` = met."""
    from cscflow.practices.clocks import clock_table
    from cscflow.practices.rules import load_rules

    clocks = clock_table(ws, load_rules()[rule_id], (hi - pd.Timedelta(days=1)).date())
    done = clocks.filter(clocks.stop.notnull() & (clocks.stop >= ibis.literal(lo.date(), type="date"))
                         & (clocks.stop < ibis.literal(hi.date(), type="date")) & clocks.team.notnull())
    return done.mutate(hit=ibis.ifelse(done.status == "met", 1, 0))


def team_funnel(ws: Any, measure: str = "assessment-45wd", year: int | None = None,
                overdispersion: str | None = "auto") -> FunnelPlot:
    """Funnel plot of the workspace's teams on a proportion (:func:`team_counts`), the pooled
    share as target, exact binomial limits (95%, 99.8%) flagged by each team's own tail
    probability, widened by additive random effects when the teams vary more than chance allows
    (``overdispersion="auto"``; see :class:`FunnelPlot`).

    >>> import tempfile
    >>> from cscflow import Workspace
    >>> team_counts(Workspace(tempfile.mkdtemp(), la="886"), "assessment-nfa", 2020).empty
    True
    """
    counts = team_counts(ws, measure, year)
    counts = counts[counts["denominator"] > 0]
    if counts.empty:
        raise AnalysisError(f"no {TEAM_MEASURES[measure][1]} stays with a team in the year ending 31 March "
                            f"{counts.attrs.get('year')} in workspace {ws.path}",
                            hint="choose another --year, or load data that name teams")
    fp = FunnelPlot("proportion", overdispersion=overdispersion, target_name="teams' pooled", unit_name="teams")
    fp.fit(counts["numerator"], counts["denominator"], labels=counts["team"].tolist())
    fp.year_ = counts.attrs.get("year")
    setattr(fp, "measure_method_", counts.attrs.get("method"))  # noqa: B010 - read by analytics.run (teams)
    return fp
