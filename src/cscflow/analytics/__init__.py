"""The report's statistics: survival and leaving-care curves, competing routes out of care,
cumulative incidence by birth cohort, funnel plots, Sankey journeys and benchmarking.

Fitters follow lifelines: ``fit()`` returns self, results are attributes ending in ``_``,
``plot()`` gives a plotly figure and ``summary`` a DataFrame. :func:`run` gives any named
analysis as a table (for CSV, small numbers suppressed) and a figure, for the CLI and web app.

>>> from cscflow.analytics import KaplanMeier
>>> KaplanMeier().fit([2, 4, 4, 6], [1, 1, 0, 1]).median_
4.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cscflow.analytics.competing import CumulativeIncidence
from cscflow.analytics.funnel import FunnelPlot
from cscflow.analytics.sankey import Sankey
from cscflow.analytics.suppression import suppress
from cscflow.analytics.survival import KaplanMeier, KaplanMeierGroups, logrank_test
from cscflow.errors import AnalysisError

#: analysis name -> (description, options it takes)
ANALYSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "leaving-care": ("Leaving-care curves from entering care, by cohort", ("by", "as_of", "window_start")),
    "routes": ("Routes out of care (cumulative incidence, competing)", ("as_of",)),
    "rereferral": ("Time from a referral to the next referral", ("as_of",)),
    "referral-to-cp": ("Time from referral to a CP plan", ("as_of",)),
    "referral-to-care": ("Time from referral to entering care", ("as_of",)),
    "return-to-care": ("Time from leaving care to coming back", ("as_of",)),
    "incidence": ("Cumulative incidence by birth cohort (by ages 1, 5, 10, 18)", ("event", "as_of", "population")),
    "funnel": ("Funnel plot of all LAs on a DfE measure", ("measure", "year", "la", "overdispersion")),
    "teams": ("Funnel plot of the LA's teams on a proportion (assessment-45wd, assessment-nfa, cp-repeat, "
              "rereferral)", ("measure", "year", "overdispersion")),
    "benchmark": ("The LA against England, region and statistical neighbours", ("measure", "la")),
    "legal-orders": ("Final legal orders by year (shares)", ()),
    "sankey-legal": ("Legal status before proceedings -> interim order -> final order", ("min_flow",)),
    "sankey-front-door": ("Referral -> assessment outcome -> plan", ("min_flow",)),
}

#: Columns of each analysis's table that are counts of children (suppressed in exports),
#: and columns derived from them.
COUNT_COLUMNS = ("at_risk", "events", "children", "leavers", "proceedings", "value_count", "numerator",
                 "count")


@dataclass
class Result:
    """A named analysis's table (CSV), figure (plotly) and headline summary."""

    name: str
    table: pd.DataFrame
    figure: Any
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    counts: tuple[str, ...] = ()
    derived: dict[str, str] = field(default_factory=dict)

    def export(self, suppressed: bool = True) -> pd.DataFrame:
        """The table for export: counts of 1-4 as "<5" (with secondary suppression)."""
        if not suppressed or not self.counts:
            return self.table
        cols = [c for c in self.counts if c in self.table.columns]
        derived = {k: v for k, v in self.derived.items() if k in self.table.columns and v in cols}
        return suppress(self.table, cols, column_totals=False, derived=derived) if cols else self.table


def run(ws: Any, name: str, **options: Any) -> Result:
    """Run analysis ``name`` (see :data:`ANALYSES`) on workspace ``ws`` with ``options``."""
    from cscflow.analytics import benchmarking, incidence, ready
    from cscflow.analytics import sankey as sk

    if name not in ANALYSES:
        raise AnalysisError(f"no analysis {name!r}", hint=f"use one of {', '.join(ANALYSES)}")
    allowed = ANALYSES[name][1]
    unknown = sorted(k for k, v in options.items() if v is not None and k not in allowed)
    if unknown:
        raise AnalysisError(f"analysis {name!r} takes no option {unknown[0]!r}",
                            hint=f"its options: {', '.join(allowed) or 'none'}")
    opts = {k: v for k, v in options.items() if v is not None}
    title = ANALYSES[name][0]
    if name in ("leaving-care", "rereferral", "referral-to-cp", "referral-to-care", "return-to-care"):
        fitted = ready.ANALYSES[name](ws, **opts)
        table = fitted.curves() if isinstance(fitted, KaplanMeierGroups) else fitted.curve()
        summary = fitted.summary
        if isinstance(fitted, KaplanMeierGroups) and fitted.logrank_ is not None:
            summary = summary.assign(logrank_p=fitted.logrank_.p_value)
        ylab = "still in care" if name == "leaving-care" else "not yet happened"
        return Result(name, table, fitted.plot(title=title, yaxis_title=ylab), summary, ("at_risk", "events"))
    if name == "routes":
        ci = ready.routes_out_of_care(ws, **opts)
        table = ci.curves().merge(ci.event_table_[["at_risk"]].reset_index(), on="time", how="left")
        return Result(name, table, ci.plot(title=title), ci.summary, ("at_risk", "leavers"))
    if name == "incidence":
        t = incidence.cumulative_incidence_by_cohort(ws, **opts)
        return Result(name, t, incidence.incidence_figure(t, title), t.dropna(subset=["incidence"]), ("children",))
    if name == "funnel":
        measure = opts.get("measure", "cla_31march")
        year = int(opts.get("year", 2025))
        fp = benchmarking.la_funnel(measure, year, la=opts.get("la") or ws.la or None,
                                    overdispersion=opts.get("overdispersion"))
        from cscflow import reference

        return Result(name, fp.summary, fp.plot(title=f"{reference.MEASURES[measure][0]}, {year}"),
                      fp.outliers_, ())  # published DfE figures: already suppressed at source
    if name == "teams":
        fp = ready.team_funnel(ws, measure=opts.get("measure", "assessment-45wd"),
                               year=int(opts["year"]) if "year" in opts else None,
                               overdispersion=opts.get("overdispersion"))
        what = ready.TEAM_MEASURES[opts.get("measure", "assessment-45wd")][0]
        return Result(name, fp.summary, fp.plot(title=f"{what}, year ending March {fp.year_}", value_title="share"),
                      fp.summary, ("numerator",), {"value": "numerator", "z": "numerator"})
    if name == "benchmark":
        measure = opts.get("measure", "cla_31march")
        la = opts.get("la") or ws.la
        if not la:
            raise AnalysisError("no LA to benchmark", hint="pass --la CODE or set the workspace's LA")
        from cscflow import reference

        t = benchmarking.compare(la, measure)
        return Result(name, t, benchmarking.trend_figure(t, reference.MEASURES[measure][0]), t, ())
    if name == "legal-orders":
        import plotly.express as px

        t = benchmarking.legal_order_trends(ws)
        fig = px.bar(t, x="year", y="share", color="order", title=title, template="plotly_white")
        return Result(name, t, fig, t, ("proceedings",))
    s = (sk.legal_journeys if name == "sankey-legal" else sk.front_door_journeys)(ws, **opts)
    return Result(name, s.links_.rename(columns={"value": "children"}), s.plot(title), s.links_, ("children",))


__all__ = [
    "ANALYSES",
    "CumulativeIncidence",
    "FunnelPlot",
    "KaplanMeier",
    "KaplanMeierGroups",
    "Result",
    "Sankey",
    "logrank_test",
    "run",
    "suppress",
]
