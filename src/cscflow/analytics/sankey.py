"""Sankey diagrams of journeys between time points, acyclic with stage-prefixed nodes.

Each child (or referral) is a path of states, one per step (e.g. legal status before
proceedings -> interim order -> final order). Node names carry the step ("Final order: SGO"),
so the diagram cannot loop. Flows smaller than ``min_flow`` are left out of ``links_`` (their total
is kept in ``suppressed_`` for internal use and never printed: exports go through
:mod:`cscflow.disclosure`); ``method_`` says what the diagram shows.

>>> import pandas as pd
>>> paths = pd.DataFrame({"a": ["x"] * 6 + ["y"] * 2, "b": ["p"] * 5 + ["q"] * 3})
>>> s = Sankey(min_flow=5).fit(paths)
>>> s.links_[["source", "target", "value"]].values.tolist(), s.suppressed_
([['a: x', 'b: p', 5]], 3)
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cscflow.errors import AnalysisError


class Sankey:
    """Flows between consecutive steps of paths (one column per step, in order)."""

    def __init__(self, min_flow: int = 5, missing: str = "none", unit: str = "children") -> None:
        self.min_flow, self.missing, self.unit = min_flow, missing, unit

    def fit(self, paths: pd.DataFrame, steps: list[str] | None = None, labels: dict[str, str] | None = None,
            values: dict[str, str] | None = None) -> Sankey:
        """Count the moves between consecutive ``steps`` of ``paths``; ``labels`` names the steps, ``values`` the
        states (e.g. the map's station names for stage ids: "CIN plan" for cin_plan)."""
        steps = steps or list(paths.columns)
        if len(steps) < 2:
            raise AnalysisError("a Sankey needs at least two steps", hint="pass two or more columns")
        labels = labels or {}
        p = paths[steps].astype(object).where(paths[steps].notna(), self.missing)
        if values:
            p = p.apply(lambda col: col.map(lambda v: values.get(v, v) if isinstance(v, str) else v))
        links = []
        for a, b in zip(steps[:-1], steps[1:], strict=True):
            g = p.groupby([a, b]).size().reset_index(name="value")
            g["source"] = labels.get(a, a) + ": " + g[a].astype(str)
            g["target"] = labels.get(b, b) + ": " + g[b].astype(str)
            links.append(g[["source", "target", "value"]])
        all_links = pd.concat(links, ignore_index=True)
        small = all_links["value"] < self.min_flow
        self.suppressed_ = int(all_links.loc[small, "value"].sum())
        self.links_ = all_links[~small].reset_index(drop=True)
        nodes = pd.unique(pd.concat([self.links_["source"], self.links_["target"]]))
        self.nodes_ = list(nodes)
        self.paths_ = len(p)
        self._steps = [labels.get(s, s) for s in steps]
        return self

    @property
    def method_(self) -> str:
        """What the diagram shows, in one sentence."""
        if not hasattr(self, "_steps"):
            raise AnalysisError("this Sankey has not been fitted", hint="call .fit(paths)")
        return (f"Sankey diagram: each path ({self.unit}) followed from {' -> '.join(self._steps)}; a node is one "
                f"state at one step, a link the {self.unit} moving between them; links of fewer than "
                f"{self.min_flow} are not drawn.")

    @property
    def summary(self) -> pd.DataFrame:
        return self.links_

    def plot(self, title: str | None = None) -> Any:
        """The diagram of ``links_`` (the method is added by the caller that exports it)."""
        return sankey_figure(self.links_, title)


def sankey_figure(links: pd.DataFrame, title: str | None = None, value: str = "value") -> Any:
    """A plotly Sankey of ``links`` (source, target and ``value`` columns); links whose value is
    not a number (withheld by disclosure control) are not drawn."""
    import plotly.graph_objects as go

    v = pd.to_numeric(links[value], errors="coerce") if len(links) else pd.Series(dtype=float)
    drawn = links[v.notna() & (v > 0)]
    nodes = list(pd.unique(pd.concat([drawn["source"], drawn["target"]]))) if len(drawn) else []
    idx = {n: i for i, n in enumerate(nodes)}
    fig = go.Figure(go.Sankey(
        node={"label": nodes, "pad": 12},
        link={"source": [idx[s] for s in drawn["source"]], "target": [idx[t] for t in drawn["target"]],
              "value": v[drawn.index].tolist()},
    ))
    fig.update_layout(title=title or "", template="plotly_white")
    return fig


def _first_attr(attrs: pd.Series, key: str) -> pd.Series:
    import json

    return attrs.map(lambda s: (json.loads(s) or {}).get(key) if isinstance(s, str) and s else None)


def legal_journeys(ws: Any, min_flow: int = 5) -> Sankey:
    """Legal status before proceedings (looked-after legal status on the application date, or
    'not looked after') -> interim order -> final order ('open' while undecided)."""
    pr = ws.execute(ws.table("proceedings").select("child_id", "application_date", "order", "attrs"))
    if pr.empty:
        raise AnalysisError(f"no proceedings in workspace {ws.path}", hint="load the legal spreadsheet first")
    pr["application_date"] = pd.to_datetime(pr["application_date"])
    pr["interim"] = _first_attr(pr["attrs"], "interim_order").fillna("none")
    ep = ws.table("episodes")
    la = ws.execute(ep.filter(ep.stage == "looked_after").select("child_id", "start", "end", "attrs"))
    la["legal_status"] = _first_attr(la["attrs"], "legal_status")
    la["start"], la["end"] = pd.to_datetime(la["start"]), pd.to_datetime(la["end"])
    m = pr.reset_index().merge(la[["child_id", "start", "end", "legal_status"]], on="child_id", how="left")
    on = (m["start"] <= m["application_date"]) & (m["end"].isna() | (m["application_date"] < m["end"]))
    before = m[on].drop_duplicates("index").set_index("index")["legal_status"]
    pr["before"] = before.reindex(pr.index).fillna("not looked after")
    pr["final"] = pr["order"].fillna("open")
    return Sankey(min_flow, unit="proceedings").fit(
        pr[["before", "interim", "final"]],
        labels={"before": "Before proceedings", "interim": "Interim order", "final": "Final order"},
    )


def front_door_journeys(ws: Any, min_flow: int = 5) -> Sankey:
    """Referral -> assessment outcome -> plan (CIN plan, CP plan, looked after, or none), per
    episode of need."""
    ep = ws.table("episodes")
    rows = ws.execute(ep.filter(ep.need_id.notnull()).select("need_id", "stage", "start", "outcome"))
    if rows.empty:
        raise AnalysisError(f"no referrals in workspace {ws.path}", hint="load Annex A or CIN data first")
    rows = rows.sort_values("start")
    ref = rows[rows["stage"] == "referral"].drop_duplicates("need_id").set_index("need_id")
    ass = rows[rows["stage"] == "assessment"].drop_duplicates("need_id").set_index("need_id")
    plans = rows[rows["stage"].isin(["cin_plan", "cp_plan", "looked_after"])]
    rank = {"looked_after": 0, "cp_plan": 1, "cin_plan": 2}
    plan = plans.assign(r=plans["stage"].map(rank)).sort_values("r").drop_duplicates("need_id").set_index("need_id")
    out = pd.DataFrame(index=ref.index)
    out["referral"] = ref["outcome"].fillna("open")
    out["assessment"] = ass["outcome"].reindex(out.index).fillna("no assessment")
    out["plan"] = plan["stage"].reindex(out.index).fillna("no plan")
    # stages and outcomes by their names on the England map ("CIN plan", "No further action", not cin_plan, nfa)
    from cscflow.journeys.maps import load_map

    return Sankey(min_flow, unit="episodes of need").fit(out, labels={"referral": "Referral", "assessment": "Assessment",
                                                                      "plan": "Plan"}, values=load_map("england").labels)


__all__ = ["Sankey", "front_door_journeys", "legal_journeys", "sankey_figure"]
