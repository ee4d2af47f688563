"""Care-proceedings analyses after linkage (Masson et al.; Harwin et al.), as tables for :func:`cscflow.analytics.run`.

Each function takes a workspace whose ``links`` table has been written by ``cscflow link`` (only
:func:`duration` works without it: lengths of proceedings need no link) and returns a table whose
structure is declared in :mod:`cscflow.disclosure.registry` under the same name, with the method
in ``table.attrs["method"]``.

* :func:`stage_at` — the CSC stage (and 903 legal status when looked after) of each linked child on
  the application date and on the final order date;
* :func:`never_looked_after` — per application year, proceedings whose child had no looked-after
  stay beginning before the final order (or the data's end while open); Masson found about a fifth;
* :func:`duration` — concluded proceedings against the 26-week limit (Children and Families Act 2014,
  s.14), by application year and court;
* :func:`return_to_court` — time from a final order to the child's next application, Kaplan–Meier
  by order, censored at the data's end (Harwin's return to court after supervision orders and SGOs).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from cscflow.errors import AnalysisError

#: Stage precedence when several stays are open on one day (highest first).
PRECEDENCE = ("looked_after", "proceedings", "pre_proceedings", "cp_plan", "s47", "icpc", "strategy_discussion",
              "cin_plan", "assessment", "referral", "early_help", "care_leaver", "contact")
LIMIT_WEEKS = 26


def linked_proceedings(ws: Any) -> pd.DataFrame:
    """Proceedings rows with the child linked to them (``links``), no identifiers."""
    p = ws.execute(ws.table("proceedings").select("proceedings_id", "application_date", "final_order_date",
                                                  "order", "court"))
    links = ws.execute(ws.table("links").select("proceedings_id", "child_id"))
    if links.empty:
        raise AnalysisError("no linked proceedings in the workspace",
                            hint="run `cscflow link WORKSPACE` first (it writes the links table)")
    out = p.merge(links.drop_duplicates("proceedings_id"), on="proceedings_id")
    for c in ("application_date", "final_order_date"):
        out[c] = pd.to_datetime(out[c])
    return out


def _episodes(ws: Any, children: pd.Series) -> pd.DataFrame:
    ep = ws.table("episodes")
    ids = sorted(set(children.dropna()))
    rows = ws.execute(ep.filter(ep.child_id.isin(ids)).select("child_id", "stage", "start", "end", "attrs"))
    rows["start"] = pd.to_datetime(rows["start"])
    rows["end"] = pd.to_datetime(rows["end"])
    return rows


def _data_end(ws: Any) -> pd.Timestamp:
    ep = ws.table("episodes")
    return pd.Timestamp(ws.execute(ep.start.max()))


def stage_at(ws: Any) -> pd.DataFrame:
    """moment (application / final_order), stage, legal_status, proceedings, share (of the moment)."""
    lp = linked_proceedings(ws)
    eps = _episodes(ws, lp["child_id"])
    rank = {s: i for i, s in enumerate(PRECEDENCE)}
    eps["rank"] = eps["stage"].map(rank).fillna(len(PRECEDENCE))
    eps["legal_status"] = eps["attrs"].map(lambda a: (json.loads(a) if isinstance(a, str) and a else {})
                                           .get("legal_status"))
    out = []
    for moment, col in (("application", "application_date"), ("final_order", "final_order_date")):
        at = lp.dropna(subset=[col])[["proceedings_id", "child_id", col]].rename(columns={col: "day"})
        j = at.merge(eps, on="child_id", how="left")
        open_ = (j["start"] <= j["day"]) & (j["end"].isna() | (j["end"] >= j["day"]))
        j = j[open_].sort_values(["proceedings_id", "rank", "start"]).drop_duplicates("proceedings_id")
        at = at.merge(j[["proceedings_id", "stage", "legal_status"]], on="proceedings_id", how="left")
        at["stage"] = at["stage"].fillna("(none open)")
        at["legal_status"] = at["legal_status"].where(at["stage"] == "looked_after", "").fillna("")
        g = at.groupby(["stage", "legal_status"]).size().rename("proceedings").reset_index()
        g.insert(0, "moment", moment)
        out.append(g)
    t = pd.concat(out, ignore_index=True)
    t["share"] = t["proceedings"] / t.groupby("moment")["proceedings"].transform("sum")
    t.attrs["method"] = ("Linked proceedings: the child's CSC stage on the application date and on the final order "
                         "date (the stay open that day, by precedence looked_after > proceedings > "
                         "pre_proceedings > cp_plan > ... ), with the 903 legal status when looked after; "
                         "share of the moment's proceedings.")
    return t


def never_looked_after(ws: Any) -> pd.DataFrame:
    """year (of application; 'all' last), proceedings, never_looked_after, share."""
    lp = linked_proceedings(ws)
    eps = _episodes(ws, lp["child_id"])
    first = eps[eps["stage"] == "looked_after"].groupby("child_id")["start"].min()
    end = lp["final_order_date"].fillna(_data_end(ws))
    start = lp["child_id"].map(first)
    lp["never"] = ~(start.notna() & (start <= end))
    lp["year"] = lp["application_date"].dt.year.astype(str)
    t = lp.groupby("year").agg(proceedings=("proceedings_id", "size"), never_looked_after=("never", "sum"))
    t.loc["all"] = t.sum()
    t = t.reset_index()
    t["share"] = t["never_looked_after"] / t["proceedings"]
    t.attrs["method"] = ("Linked proceedings by calendar year of application: those whose child had no "
                         "looked-after stay beginning on or before the final order date (or the data's end while "
                         "the proceedings are open); share = never_looked_after / proceedings.")
    return t


def duration(ws: Any) -> pd.DataFrame:
    """year, court ('all' per year), concluded, within_26_weeks, share_within, median_weeks."""
    p = ws.execute(ws.table("proceedings").select("application_date", "final_order_date", "court"))
    p = p.dropna(subset=["application_date", "final_order_date"])
    if p.empty:
        raise AnalysisError("no concluded proceedings", hint="load a legal sheet with final order dates")
    weeks = (pd.to_datetime(p["final_order_date"]) - pd.to_datetime(p["application_date"])).dt.days / 7
    p = p.assign(weeks=weeks, year=pd.to_datetime(p["application_date"]).dt.year.astype(str),
                 court=p["court"].fillna("(not recorded)"), within=weeks <= LIMIT_WEEKS)
    both = pd.concat([p, p.assign(court="all")], ignore_index=True)
    t = both.groupby(["year", "court"]).agg(concluded=("weeks", "size"), within_26_weeks=("within", "sum"),
                                            median_weeks=("weeks", "median")).reset_index()
    t["share_within"] = t["within_26_weeks"] / t["concluded"]
    t.attrs["method"] = (f"Concluded proceedings by calendar year of application and court: weeks from "
                         f"application to final order; within_26_weeks counts those concluded in {LIMIT_WEEKS} "
                         "weeks or less (the statutory limit, Children and Families Act 2014 s.14).")
    return t


def return_to_court(ws: Any) -> tuple[Any, pd.DataFrame]:
    """(KaplanMeierGroups fitted by final order, the curves table) of days from a final order to the
    same child's next application, censored at the data's end."""
    from cscflow.analytics.survival import KaplanMeierGroups

    lp = linked_proceedings(ws).sort_values(["child_id", "application_date"])
    nxt = lp.groupby("child_id")["application_date"].shift(-1)
    done = lp.dropna(subset=["final_order_date", "order"]).index
    end = _data_end(ws)
    base = lp.loc[done, "final_order_date"]
    stop = nxt.loc[done].where(nxt.loc[done] > base)
    days = (stop.fillna(end) - base).dt.days.clip(lower=0)
    keep = days.notna() & (base <= end)
    if not keep.any():
        raise AnalysisError("no concluded linked proceedings to follow", hint="link the legal sheet first")
    km = KaplanMeierGroups().fit(days[keep].to_numpy(), stop[keep].notna().to_numpy(),
                                 lp.loc[done, "order"][keep].to_numpy())
    km.method_ = ("Return to court: days from a final order to the next application naming the same (linked) "
                  "child, censored at the data's end; " + km.method_)
    return km, km.curves()

