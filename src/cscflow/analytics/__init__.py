"""The report's statistics: survival and leaving-care curves, competing routes out of care,
cumulative incidence by birth cohort, funnel plots, Sankey journeys and benchmarking.

Fitters follow lifelines: ``fit()`` returns self, results are attributes ending in ``_``,
``plot()`` gives a plotly figure and ``summary`` a DataFrame. :func:`run` gives any named
analysis as a :class:`Result`: its table, figure and summary pass through
:mod:`cscflow.disclosure` (small numbers suppressed, the method written on them) for the CLI and
web app.

>>> from cscflow.analytics import KaplanMeier
>>> KaplanMeier().fit([2, 4, 4, 6], [1, 1, 0, 1]).median_
4.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cscflow import disclosure
from cscflow.analytics.competing import CumulativeIncidence
from cscflow.analytics.funnel import FunnelPlot
from cscflow.analytics.sankey import Sankey
from cscflow.analytics.survival import KaplanMeier, KaplanMeierGroups, logrank_test
from cscflow.disclosure import suppress
from cscflow.errors import AnalysisError

#: analysis name -> (description, options it takes)
ANALYSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "leaving-care": ("Leaving-care curves from entering care, by cohort", ("by", "as_of", "window_start")),
    "routes": ("Routes out of care (cumulative incidence, competing)", ("as_of", "window_start")),
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
    # care proceedings after `cscflow link` (cscflow.linkage.analyses)
    "proceedings-stage": ("CSC stage and legal status at application and at final order", ()),
    "proceedings-never-looked-after": ("Proceedings whose child was never looked after, by year", ()),
    "proceedings-duration": ("Proceedings against the 26-week limit, by year and court", ()),
    "proceedings-return": ("Return to court after a final order, by order (Kaplan-Meier)", ()),
}


@dataclass
class Result:
    """A named analysis: its full table (internal), how to draw it, its summary and its method.

    What leaves the machine comes from :meth:`disclose` (the table after :mod:`cscflow.disclosure`),
    :meth:`figure_for` (the figure drawn from that disclosed table, with its method, data window
    and disclosure rule written under it) and :meth:`disclose_summary`."""

    name: str
    table: pd.DataFrame
    draw: Callable[[pd.DataFrame], Any]
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary_name: str | None = None
    method: str = ""
    window: str = ""
    title: str = ""

    @property
    def counts(self) -> tuple[str, ...]:
        """The table's count columns (from the disclosure registry)."""
        return disclosure.spec(self.name).counts

    def disclose(self, suppressed: bool = True) -> disclosure.Disclosed:
        """The table as it may be shared (``suppressed=False``: internal use, marked so)."""
        return disclosure.disclose(self.table, self.name, suppress=suppressed, method=self.method,
                                   window=self.window)

    def disclose_summary(self, suppressed: bool = True) -> disclosure.Disclosed:
        """The headline summary as it may be shared."""
        return disclosure.disclose(self.summary, self.summary_name or self.name, suppress=suppressed,
                                   method=self.method, window=self.window)

    def export(self, suppressed: bool = True) -> pd.DataFrame:
        """The disclosed table (counts of 1-4 as "<5", secondary suppression, derived values blank)."""
        return self.disclose(suppressed).table

    def figure_for(self, suppressed: bool = True) -> Any:
        """The figure drawn from the disclosed table, its method and disclosure rule under it."""
        d = self.disclose(suppressed)
        fig = self.draw(disclosure.numeric(d.table))
        if not suppressed:
            fig.update_layout(title_text=f"{disclosure.NOT_SUPPRESSED}. {fig.layout.title.text or ''}")
        return d.annotate(fig)

    @property
    def figure(self) -> Any:
        """The disclosed figure (see :meth:`figure_for`)."""
        return self.figure_for(True)


def _window(ws: Any, as_of: Any = None, window_start: Any = None) -> str:
    """The data window of an analysis on ``ws``, in words: each source's observation window
    (:func:`cscflow.journeys.windows.source_windows`), not its earliest date (older stays are the tail of
    those that lasted)."""
    from cscflow.journeys.windows import source_windows

    win = source_windows(ws)
    if win.empty:
        text = "the workspace's episodes (none loaded)"
    else:
        bases = list(dict.fromkeys(f"{b} from {s:%Y-%m-%d}" for b, s in zip(win["basis"], win["start"], strict=True)))
        shown = "; ".join(bases[:4]) + (f"; and {len(bases) - 4} more sources" if len(bases) > 4 else "")
        text = (f"observed from {win['start'].min():%Y-%m-%d} to {win['end'].max():%Y-%m-%d} ({shown}); "
                f"stays begun earlier, back to {win['first'].min():%Y-%m-%d}, are history kept because they lasted")
    if as_of:
        text += f"; nothing after {pd.Timestamp(as_of):%Y-%m-%d} is seen (censored there)"
    if window_start:
        text += f"; periods begun before {pd.Timestamp(window_start):%Y-%m-%d} enter late (left truncation)"
    return text + "."


def _incidence_method(t: pd.DataFrame, event: str | None) -> str:
    return t.attrs.get("method") or (
        f"Cumulative incidence by birth cohort: children born in a year whose first {event or 'care'} stay "
        "began before their 1st, 5th, 10th and 18th birthday, divided by the cohort's size (1/18 of the ONS "
        "0-17 population unless a population is given); a cohort-age is shown only when the data cover it.")


def run(ws: Any, name: str, **options: Any) -> Result:
    """Run analysis ``name`` (see :data:`ANALYSES`) on workspace ``ws`` with ``options``."""
    from cscflow.analytics import benchmarking, incidence, plotting, ready
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
    window = _window(ws, opts.get("as_of"), opts.get("window_start"))
    if name in ("leaving-care", "rereferral", "referral-to-cp", "referral-to-care", "return-to-care"):
        fitted = ready.ANALYSES[name](ws, **opts)
        groups = isinstance(fitted, KaplanMeierGroups)
        table = fitted.curves() if groups else fitted.curve()
        summary = fitted.summary
        if groups and fitted.logrank_ is not None:
            summary = summary.assign(logrank_p=fitted.logrank_.p_value)
        ylab = "still in care" if name == "leaving-care" else "not yet happened"

        def draw_km(t: pd.DataFrame) -> Any:
            return plotting.curve_figure(t, "survival", "group" if groups else None, title=title,
                                         yaxis_title=ylab)

        return Result(name, table, draw_km, summary, "km-summary", fitted.method_, window, title)
    if name == "routes":
        ci = ready.routes_out_of_care(ws, **opts)
        et = ci.event_table_
        table = ci.curves().merge(et[["at_risk"]].reset_index(), on="time", how="left")
        events = et[ci.causes_].stack().rename("events").reset_index().rename(columns={"level_1": "route"})
        table = table.merge(events, on=["time", "route"], how="left")

        def draw_cif(t: pd.DataFrame) -> Any:
            return plotting.curve_figure(t, "cumulative_incidence", "route", title=title,
                                         yaxis_title="cumulative incidence")

        return Result(name, table, draw_cif, ci.summary, "routes-summary", ci.method_, window, title)
    if name == "incidence":
        t = incidence.cumulative_incidence_by_cohort(ws, **opts)
        return Result(name, t, lambda d: incidence.incidence_figure(d, title), t.dropna(subset=["incidence"]),
                      None, _incidence_method(t, opts.get("event")), window, title)
    if name == "funnel":
        measure = opts.get("measure", "cla_31march")
        year = int(opts.get("year", 2025))
        fp = benchmarking.la_funnel(measure, year, la=opts.get("la") or ws.la or None,
                                    overdispersion=opts.get("overdispersion"))
        from cscflow import reference

        what = f"{reference.MEASURES[measure][0]}, {year}"
        return Result(name, fp.summary, lambda _t: fp.plot(title=what), fp.outliers_, None, fp.method_,
                      f"DfE published LA-level statistics, year ending 31 March {year}.", what)
    if name == "teams":
        measure = opts.get("measure", "assessment-45wd")
        fp = ready.team_funnel(ws, measure=measure, year=int(opts["year"]) if "year" in opts else None,
                               overdispersion=opts.get("overdispersion"))
        what = f"{ready.TEAM_MEASURES[measure][0]}, year ending March {fp.year_}"

        def draw_teams(t: pd.DataFrame) -> Any:
            hidden = set(t.loc[t["value"].isna(), "label"].astype(str)) if "value" in t else set()
            return plotting.drop_points(fp.plot(title=what, value_title="share"), hidden)

        method = " ".join(m for m in (getattr(fp, "measure_method_", None), fp.method_) if m)
        return Result(name, fp.summary, draw_teams, fp.summary, None, method, window, what)
    if name == "benchmark":
        measure = opts.get("measure", "cla_31march")
        la = opts.get("la") or ws.la
        if not la:
            raise AnalysisError("no LA to benchmark", hint="pass --la CODE or set the workspace's LA")
        from cscflow import reference

        t = benchmarking.compare(la, measure)
        what = reference.MEASURES[measure][0]
        return Result(name, t, lambda _t: benchmarking.trend_figure(t, what), t, None,
                      f"{what}: LA {la} against England, its region and statistical neighbours (DfE published "
                      "figures).", "DfE published LA-level statistics.", what)
    if name.startswith("proceedings-"):
        from cscflow.linkage.proceedings_results import result

        linked: Result = result(ws, name, title, window)
        return linked
    if name == "legal-orders":
        import plotly.express as px

        t = benchmarking.legal_order_trends(ws)

        def draw_orders(d: pd.DataFrame) -> Any:
            return px.bar(d.dropna(subset=["share"]), x="year", y="share", color="order", title=title,
                          template="plotly_white")

        return Result(name, t, draw_orders, t, None,
                      "Final legal orders by financial year of the final order (year ending 31 March), each "
                      "order's share of the year's final orders; open proceedings left out.", window, title)
    min_flow = int(opts.get("min_flow", 5))
    s = (sk.legal_journeys if name == "sankey-legal" else sk.front_door_journeys)(ws, min_flow=1)
    s.min_flow = min_flow
    links = s.links_.rename(columns={"value": "children"})

    def draw_sankey(t: pd.DataFrame) -> Any:
        v = pd.to_numeric(t["children"], errors="coerce")
        return sk.sankey_figure(t[v >= min_flow], title, value="children")

    return Result(name, links, draw_sankey, links, None, s.method_, window, title)


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
