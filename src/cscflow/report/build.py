"""What goes into the board report: the map stills, flow tables, statistics, timescales and linkage quality,
each already through :mod:`cscflow.disclosure` and carrying its method, data window and disclosure rule.

:func:`build` returns :class:`Section` objects of :class:`Block` (a table, a plotly figure, an SVG or a note);
:mod:`cscflow.report.html` writes them as one self-contained page. Nothing here returns an undisclosed count:
tables are :class:`cscflow.disclosure.Disclosed`, figures are drawn from them (:meth:`Result.figure_for`), the map
still labels stations with disclosed counts. A part the workspace has no data for becomes a note saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from cscflow.disclosure.cells import SECONDARY
from cscflow.errors import AnalysisError, CscflowError

#: section name -> heading, in the report's order
SECTIONS: dict[str, str] = {
    "summary": "Summary",
    "map": "The map",
    "flow": "Flow through the service",
    "stats": "Statistics",
    "timescales": "Statutory timescales",
    "linkage": "Care proceedings linkage quality",
}
#: flow tables in the report (name -> extra options); caseload (one row per station and day) is left out
FLOW_TABLES: dict[str, dict[str, Any]] = {
    "stations": {}, "conversion": {}, "durations": {}, "dfg": {}, "variants": {"top": 15}, "rereferrals": {},
    "nfa-by-prior": {}, "s47-outcomes": {},
}
#: analyses of :func:`cscflow.analytics.run` in the report (run with their defaults)
STATS = ("leaving-care", "routes", "return-to-care", "rereferral", "referral-to-cp", "referral-to-care",
         "incidence", "sankey-front-door", "sankey-legal", "legal-orders", "teams")
LINKED_STATS = ("proceedings-stage", "proceedings-never-looked-after", "proceedings-duration", "proceedings-return")


@dataclass
class Block:
    """One item of the report: ``kind`` table (``disclosed``), figure (plotly ``figure``), svg or note."""

    kind: str
    title: str
    header: list[str] = field(default_factory=list)
    disclosed: Any = None
    figure: Any = None
    svg: str = ""
    text: str = ""


@dataclass
class Section:
    name: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Options:
    """What the report covers: period, cohort filter, sections, map dates and process map."""

    start: str | None = None
    end: str | None = None
    where: dict[str, Any] | None = None
    sections: tuple[str, ...] = tuple(SECTIONS)
    dates: tuple[str, ...] = ()
    map_name: Any = "england"  # a map name, a YAML path or a ProcessMap


def _note(title: str, err: Exception) -> Block:
    msg = getattr(err, "message", None) or str(err).splitlines()[0]
    hint = getattr(err, "hint", None)
    return Block("note", title, text=f"Not shown: {msg}" + (f" ({hint})." if hint else "."))


def guarded(title: str, make: Callable[[], list[Block]]) -> list[Block]:
    """``make()``, or a note saying why the part is not shown when the workspace lacks its data."""
    try:
        return make()
    except CscflowError as err:
        return [_note(title, err)]


def build(ws: Any, opts: Options, progress: Callable[[str], Any] = lambda _m: None) -> list[Section]:
    """The report's sections for workspace ``ws``, every one for the cohort ``opts.where`` when given (the
    statistics and timescales on a workspace of the cohort's children: :mod:`cscflow.report.cohort`)."""
    from contextlib import ExitStack

    from cscflow.journeys.maps import load_map
    from cscflow.journeys.windows import data_window

    pmap = load_map(opts.map_name, ws)
    span, observed = data_window(ws)
    if span is None:
        raise AnalysisError(f"workspace {ws.path} has no episodes", hint="load data first (`cscflow load`)")
    span = (observed or span[0], span[1])  # the period's default: the observation window (flow_table)
    out = []
    with ExitStack() as stack:
        cohort: list[Any] = []

        def of_cohort() -> Any:
            """The workspace the statistics read: the cohort's (made once, on first use) or the whole."""
            if not opts.where:
                return ws
            if not cohort:
                from cscflow.report.cohort import cohort_workspace

                cohort.append(stack.enter_context(cohort_workspace(ws, pmap, opts.where)))
            return cohort[0]

        for name in opts.sections:
            progress(name)
            sec = Section(name, SECTIONS[name])
            if name == "summary":
                sec.blocks = summary_blocks(ws, pmap, opts, span)
            elif name == "map":
                sec.blocks = map_blocks(ws, pmap, opts, span)
            elif name == "flow":
                sec.blocks = [b for t in FLOW_TABLES for b in guarded(t, partial(_flow_blocks, ws, pmap, t, opts, span))]
            elif name == "stats":
                sec.blocks = stats_blocks(of_cohort())
            elif name == "timescales":
                sec.blocks = guarded("Timescales", lambda: timescale_blocks(of_cohort(), opts))
            if name in ("stats", "timescales") and cohort:   # a note names the workspace, not the cohort's copy
                for b in sec.blocks:
                    b.text = b.text.replace(f"workspace {cohort[0].path}", f"cohort {_where(opts.where)} of "
                                            f"workspace {ws.path}")
            elif name == "linkage":
                sec.blocks = guarded("Linkage", lambda: linkage_blocks(ws))
            if opts.where:
                sec.blocks.insert(0, cohort_note(name, opts.where))
            out.append(sec)
    return out


def cohort_note(section: str, where: dict[str, Any]) -> Block:
    """What the cohort filter means in ``section`` (each section says it)."""
    from cscflow.report.cohort import RULE

    what = {
        "summary": "the headline figures count the cohort's stays",
        "map": "the map counts the cohort's children at each station",
        "flow": "the flow tables count the cohort's stays (as `cscflow flow --where`)",
        "stats": f"the statistics are computed on {RULE}",
        "timescales": f"the clocks are those of {RULE}",
        "linkage": ("not applied: the linkage quality covers every care-proceedings row, since a row not linked to "
                    "a child has no child to filter on"),
    }[section]
    return Block("note", "Cohort", text=f"Cohort {_where(where)}: {what}.")


def flow_table(ws: Any, pmap: Any, table: str, opts: Options, span: tuple[Any, Any]) -> Any:
    """Flow table ``table`` for the report's period and cohort, disclosed, as ``cscflow flow`` gives it."""
    from cscflow.disclosure import disclose, flow_method
    from cscflow.journeys import flow as flows
    from cscflow.journeys.windows import data_window

    data, observed = data_window(ws)
    kwargs: dict[str, Any] = {"start": opts.start or observed, "end": opts.end, "where": opts.where or None,
                              **FLOW_TABLES.get(table, {})}
    df = flows.TABLES[table](ws, pmap, **kwargs)
    method, window = flow_method(table, str(getattr(pmap, "name", opts.map_name)), opts.start, opts.end,
                                 opts.where or None, data, observed)
    if "top" in kwargs:
        method += f" The {kwargs['top']} most common journeys."
    return disclose(df, table, method=method, window=window)


def _flow_blocks(ws: Any, pmap: Any, table: str, opts: Options, span: tuple[Any, Any]) -> list[Block]:
    return [flow_block(ws, pmap, table, opts, span)]


def flow_block(ws: Any, pmap: Any, table: str, opts: Options, span: tuple[Any, Any]) -> Block:
    d = flow_table(ws, pmap, table, opts, span)
    return Block("table", f"{table}: {d.header[0].split(': ', 1)[-1].rstrip('.')}", d.header[1:],
                 _view(d, readable(d.table, pmap)))


#: Columns of a flow table that are shares of 0-1 (written as percentages in the report).
SHARES = ("rate", "share", "rate_12", "rate_36")


def readable(table: pd.DataFrame, pmap: Any) -> pd.DataFrame:
    """A disclosed flow table as a reader wants it in the report: stations by their names on the map ("CP plan",
    not "cp_plan") and shares as percentages ("55.0%", "<0.1%", not 0.0001598). The same cells, written
    differently (counts and withheld cells as they are); the CSV keeps the ids and the shares.

    >>> from cscflow.journeys.maps import load_map
    >>> t = pd.DataFrame({"source": ["cp_plan"], "target": ["(open)"], "n": [10], "rate": [0.0001598]})
    >>> readable(t, load_map("england")).loc[0, ["source", "target", "rate"]].tolist()
    ['CP plan', '(open)', '<0.1%']
    """
    names = pmap.labels
    out = table.copy()
    for col in ("source", "target", *(() if "label" in out.columns else ("station",))):
        if col in out.columns:
            out[col] = [names.get(v, v) if isinstance(v, str) else v for v in out[col]]
    for col in SHARES:
        if col in out.columns:
            out[col] = [_percent(v) for v in out[col]]
    return out


def _percent(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, int | float) or pd.isna(v):
        return v  # a blank (derived from a withheld count) or a marker stays as it is
    pct = 100.0 * float(v)
    return "<0.1%" if 0 < pct < 0.05 else f"{pct:.1f}%"


def map_dates(opts: Options, span: tuple[Any, Any]) -> list[pd.Timestamp]:
    """The dates of the map stills: those asked for, else the period's end (or the data's last day)."""
    if opts.dates:
        return [pd.Timestamp(d) for d in opts.dates]
    return [pd.Timestamp(opts.end) if opts.end else pd.Timestamp(span[1]).normalize()]


def map_blocks(ws: Any, pmap: Any, opts: Options, span: tuple[Any, Any]) -> list[Block]:
    from cscflow.report.mapimage import map_figure, station_counts, svg_text

    blocks = []
    stations = None
    for day in map_dates(opts, span):
        d = station_counts(ws, pmap, day, opts.where)
        if stations is None:
            stations = flow_table(ws, pmap, "stations", opts, span).table
        same = stations[stations["open_on"] == f"{day:%Y-%m-%d}"]
        if len(same):  # the stations table's `open` on this day, as disclosed there (a withheld [c] stays so)
            d.table = d.table.merge(same[["station", "open"]], on="station", how="left")
            d.table["children"] = d.table["open"].where(d.table["open"].notna(), d.table["children"])
            d.table = d.table.drop(columns="open")
            if (d.table["children"] == SECONDARY).any():
                d.notes.append(f"A count withheld as {SECONDARY} in the stations table (to protect a small count there) "
                               "is withheld here too.")
        fig = map_figure(pmap, d.table, day, size=(1100, 640))
        blocks.append(Block("svg", f"Children at each station on {day:%d %B %Y}", d.header[1:],
                            _view(d, readable(d.table, pmap)), svg=svg_text(fig)))
    return blocks


def summary_blocks(ws: Any, pmap: Any, opts: Options, span: tuple[Any, Any]) -> list[Block]:
    """Headline figures: per station, the stays begun in the period and the children there at its end."""
    d = flow_table(ws, pmap, "stations", opts, span)
    t = d.table
    keep = [c for c in ("label" if "label" in t.columns else "station", "entered", "children_entered", "open")
            if c in t.columns]
    head = Block("table", "Headline figures: stays begun in the period and children at each station at its end",
                 d.header[1:], _view(d, t[keep]))
    period = (f"{pd.Timestamp(opts.start or span[0]):%d %B %Y} to {pd.Timestamp(opts.end or span[1]):%d %B %Y}")
    if opts.where:
        from cscflow.report.cohort import RULE

        scope = (f". Every section follows the cohort: the flow tables and the map count its stays; the statistics "
                 f"(curves, funnels, Sankey diagrams) and the timescales are computed on {RULE}; the linkage quality "
                 "alone covers every care-proceedings row. The statistics use the whole span of the data, their "
                 "data window written under each.")
    else:
        scope = (". The flow tables and the map follow that period; the statistics (curves, funnels, Sankey "
                 "diagrams) use the whole span of the data, their data window written under each.")
    text = f"This report covers {period}" + (f", cohort {_where(opts.where)}" if opts.where else "") + scope
    return [Block("note", "What this report covers", text=text), head]


def _view(d: Any, table: pd.DataFrame) -> Any:
    """``d`` (a Disclosed) showing only ``table``'s rows and columns (its header and rule kept)."""
    from dataclasses import replace

    return replace(d, table=table)


def _where(where: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, list | tuple) else v}"
                     for k, v in sorted((where or {}).items()))


def stats_blocks(ws: Any) -> list[Block]:
    from cscflow.analytics import ANALYSES, run

    names = list(STATS)
    if "links" in ws.tables() and ws.execute(ws.table("links").count()):
        names += LINKED_STATS

    def one(name: str) -> list[Block]:
        r = run(ws, name)
        fig = r.figure_for(True)
        d = r.disclose(True)
        if has_data(fig):
            blocks = [Block("figure", ANALYSES[name][0], d.header[1:], d, figure=fig)]
        else:  # every count hidden: an empty chart would look like a fault
            blocks = [Block("note", ANALYSES[name][0], d.header[1:], d, text="Nothing to draw: every count in this "
                            "chart is below 5 or withheld by disclosure control.")]
        s = r.disclose_summary(True)
        if len(s.table) and len(s.table) <= 40 and name not in ("teams",):
            blocks.append(Block("table", f"{ANALYSES[name][0]}: summary", s.header[1:], s))
        return blocks

    return [b for n in names for b in guarded(ANALYSES[n][0], partial(one, n))]


def has_data(fig: Any) -> bool:
    """Whether a plotly figure draws anything (a point, a bar or a Sankey link)."""
    for t in fig.data:
        if t.type == "sankey":
            if t.link is not None and t.link.value is not None and len(t.link.value):
                return True
        elif t.y is not None and len(t.y) and pd.notna(pd.to_numeric(pd.Series(list(t.y)), errors="coerce")).any():
            return True
    return False


def timescale_blocks(ws: Any, opts: Options) -> list[Block]:
    """Clocks due, met and late per rule (clocks due in the period)."""
    from cscflow.practices import clocks as clocks_mod
    from cscflow.practices import summary as summ

    table = clocks_mod.evaluate(ws)
    if table.empty:
        return [Block("note", "Statutory timescales", text="Not shown: no clock could be evaluated on this data.")]
    due = pd.to_datetime(table["due"])
    keep = pd.Series(True, index=table.index)
    if opts.start:
        keep &= due >= pd.Timestamp(opts.start)
    if opts.end:
        keep &= due <= pd.Timestamp(opts.end)
    sub = table[keep]
    sub.attrs = table.attrs
    months = summ.by_period(sub, "month")
    per_rule = months.groupby("rule", sort=True)[["due", "met", "late", "overdue"]].sum().reset_index()
    per_rule["breach_rate"] = (per_rule["late"] / per_rule["due"]).round(4)
    method = ("Statutory-timescale clocks (bundled rules.yaml): per rule, clocks due in the period, met, late (of "
              "which still overdue) and the share late; working days count England bank holidays, the start day "
              "being day 0.")
    d = summ.disclose(per_rule, "practices-summary", method=method, window=summ.window_text(sub))
    for rid, why in table.attrs.get("unavailable", {}).items():
        d.notes.append(f"Not evaluated: {rid}: {why}.")
    return [Block("table", "Clocks due, met and late by rule", d.header[1:], d)]


def linkage_blocks(ws: Any) -> list[Block]:
    """Match rate by year, court and order of the last linkage run (counts through disclosure control)."""
    from cscflow.disclosure import RULE, Disclosed, suppress
    from cscflow.linkage.proceedings import latest
    from cscflow.linkage.quality import characteristics, match_rates

    result = latest(ws)
    chars = characteristics(result, ws)
    blocks = []
    for by in ("application_year", "court", "order"):
        if by not in chars.columns:
            continue
        rates = match_rates(chars, by)
        shown = suppress(rates, ["linked", "review", "unlinked"], row_total="rows", derived={"match_rate": "linked"})
        method = (f"Care-proceedings rows linked to children (Splink, threshold {result.threshold:g}, review band "
                  f"{result.review_band[0]:g}-{result.review_band[1]:g}): rows linked, for review and unlinked, and "
                  f"the match rate (linked / rows), by {by.replace('_', ' ')}.")
        d = Disclosed("linkage-rates", shown, True, method, "the last linkage run stored in the workspace.")
        header = [f"Method: {method}", f"Data: {d.window}", RULE]
        blocks.append(Block("table", f"Match rate by {by.replace('_', ' ')}", header, d))
    return blocks
