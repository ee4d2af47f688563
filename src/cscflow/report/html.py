"""The report as one self-contained HTML page: CSS inline, plotly.js inlined once from the installed plotly
package, each chart's data as JSON beside its div, the map stills as inline SVG. No request leaves the page, so
it opens from an email attachment; ``@media print`` lays it out on A4 with a page break before each section and
none inside a chart or a table's row.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

import pandas as pd

from cscflow.disclosure import PRIMARY, RULE, SECONDARY, THRESHOLD
from cscflow.report.build import Block, Section

#: rows of a table shown in the report (the full table: ``cscflow flow`` / ``cscflow stats``)
MAX_ROWS = 60

CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;margin:0 auto;max-width:1100px;padding:16px;line-height:1.4}
h1{font-size:28px;margin:0 0 8px}h2{font-size:22px;border-bottom:3px solid #1d70b8;padding-bottom:4px;margin-top:40px}
h3{font-size:16px;margin:24px 0 6px}.meta{color:#505a5f;font-size:13px}
.header{font-size:11px;color:#505a5f;margin:4px 0 8px}.header p{margin:2px 0}
table{border-collapse:collapse;font-size:12px;margin:6px 0}th,td{border:1px solid #b1b4b6;padding:2px 6px;
text-align:right}th{background:#f3f2f1}td.text{text-align:left}
.chart{width:100%;height:460px}.note{background:#f3f2f1;padding:8px 12px;font-size:13px}
.rule{border-left:6px solid #1d70b8;padding:8px 12px;background:#f3f2f1;font-size:13px}
.mapsvg svg{width:100%;height:auto}nav ol{font-size:14px}
@page{size:A4 portrait;margin:14mm}
@media print{body{max-width:none;padding:0}section{break-before:page;page-break-before:always}
section.summary{break-before:auto;page-break-before:auto}.block{break-inside:avoid;page-break-inside:avoid}
tr{break-inside:avoid;page-break-inside:avoid}thead{display:table-header-group}.chart{width:180mm;height:110mm}
nav{display:none}h2,h3{break-after:avoid;page-break-after:avoid}}
"""

DRAW = """
document.querySelectorAll('script.figure-data').forEach(function (s) {
  var fig = JSON.parse(s.textContent);
  var div = document.getElementById(s.dataset.target);
  fig.layout.autosize = true; delete fig.layout.width; delete fig.layout.height;
  Plotly.newPlot(div, fig.data, fig.layout, {displaylogo: false, responsive: true});
});
window.addEventListener('beforeprint', function () {
  document.querySelectorAll('.js-plotly-plot').forEach(function (d) { Plotly.Plots.resize(d); });
});
"""


def plotly_js() -> str:
    """plotly.js (minified) from the installed plotly package."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def _header(lines: list[str]) -> str:
    return '<div class="header">' + "".join(f"<p>{html.escape(x)}</p>" for x in lines) + "</div>"


def table_html(d: Any, max_rows: int = MAX_ROWS) -> str:
    """A disclosed table as HTML; the ``data-counts`` attribute names its count columns (for checks)."""
    from cscflow.disclosure import spec

    t: pd.DataFrame = d.table
    try:
        counts = list(spec(d.name).counts)
    except Exception:  # an ad hoc table (e.g. linkage rates): its counts are its integer columns
        counts = [c for c in t.columns if c in ("rows", "linked", "review", "unlinked")]
    shown = t.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for row in shown.itertuples(index=False):
        cells = []
        for c, v in zip(shown.columns, row, strict=True):
            cls = ' class="text"' if isinstance(v, str) and v not in (PRIMARY, SECONDARY) else ""
            cells.append(f"<td{cls} data-col=\"{html.escape(str(c))}\">{html.escape(_fmt(v, str(c)))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="meta">The first {max_rows} of {len(t):,} rows; the full table: <code>cscflow flow</code> or '
            "<code>cscflow stats</code> with <code>--out</code>.</p>") if len(t) > max_rows else ""
    return (f'<table data-name="{html.escape(d.name)}" data-counts="{html.escape(json.dumps(counts))}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}")


#: Columns of whole numbers that are names, not amounts: written without thousands separators.
_PLAIN = re.compile(r"year|code|^la$|^age|^rank$")


def _fmt(v: Any, column: str = "") -> str:
    """A cell as a reader wants it: counts from 1,000 up with thousands separators (GOV.UK style; years, codes
    and ages as they are), other figures to 4 significant digits, dates as YYYY-MM-DD."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    plain = bool(_PLAIN.search(column))
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() and abs(v) >= 1000 and not plain else f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 1000 and not plain else str(v)
    if isinstance(v, pd.Timestamp | dt.date):
        return str(v)[:10]
    return str(v)


def block_html(b: Block, n: int) -> str:
    parts = [f'<div class="block"><h3>{html.escape(b.title)}</h3>']
    if b.kind == "note":
        parts.append(f'<p class="note">{html.escape(b.text)}</p>')
    elif b.kind == "svg":
        parts.append(f'<div class="mapsvg">{b.svg}</div>')
        if b.disclosed is not None:  # the same counts as a table (read aloud, copied, printed)
            parts.append(table_html(b.disclosed))
    elif b.kind == "figure":
        spec = b.figure.to_plotly_json()
        anns = spec.get("layout", {}).get("annotations") or []
        spec["layout"]["annotations"] = [a for a in anns if a.get("name") != "cscflow-method"]  # written below
        spec["layout"]["margin"] = {**(spec["layout"].get("margin") or {}), "b": 60}
        data = json.dumps(spec, cls=_Encoder, separators=(",", ":")).replace("</", "<\\/")
        parts.append(f'<div class="chart" id="fig{n}"></div>'
                     f'<script type="application/json" class="figure-data" data-target="fig{n}">{data}</script>')
    elif b.kind == "table":
        parts.append(table_html(b.disclosed))
    if b.header:
        parts.append(_header(b.header))
    return "".join(parts) + "</div>"


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        import numpy as np

        if isinstance(o, np.ndarray):
            return [None if isinstance(x, float) and np.isnan(x) else x for x in o.tolist()]
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, pd.Timestamp | dt.date | dt.datetime):
            return o.isoformat()
        return super().default(o)


def suppression_text(sections: list[Section]) -> str:
    """How numbers were suppressed, with the report's totals of hidden cells."""
    primary = secondary = blanked = 0
    for s in sections:
        for b in s.blocks:
            cells = getattr(b.disclosed, "cells", None)
            if cells is not None:
                primary, secondary, blanked = (primary + cells.primary, secondary + cells.secondary,
                                               blanked + cells.blanked)
    return (f"How numbers were suppressed. {RULE} Across this report's tables and charts: {primary:,} counts of 1 to "
            f"{THRESHOLD - 1} are shown as {PRIMARY}, {secondary:,} further counts are withheld as {SECONDARY} so "
            f"that a small count cannot be worked out from a total or a difference, and {blanked:,} rates or other "
            "derived values are left blank. Counts in method sentences are rounded where a small one is near. "
            "Curves are drawn from the coarsened, disclosed tables; Sankey links smaller than the smallest flow "
            "shown are not drawn, and the map writes a station's count of 1 to 4 as <5 with no total.")


def render(sections: list[Section], title: str, subtitle: str) -> str:
    """The whole report as one HTML string."""
    body = [f'<h1>{html.escape(title)}</h1><p class="meta">{html.escape(subtitle)}</p>',
            "<nav><ol>" + "".join(f'<li><a href="#{s.name}">{html.escape(s.title)}</a></li>' for s in sections)
            + "</ol></nav>"]
    n = 0
    for s in sections:
        body.append(f'<section class="{s.name}" id="{s.name}"><h2>{html.escape(s.title)}</h2>')
        if s.name == "summary":
            body.append(f'<p class="rule" id="suppression">{html.escape(suppression_text(sections))}</p>')
        for b in s.blocks:
            n += 1
            body.append(block_html(b, n))
        body.append("</section>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style><script>{plotly_js()}</script></head><body>{''.join(body)}"
            f"<script>{DRAW}</script></body></html>")
