"""Benchmarking an LA against England, its region and its statistical neighbours on the DfE
series (what ChAT and LAIT gave, now with funnel limits), and legal-order trends.

>>> t = compare("886", "cla_31march")
>>> t[t["year"] == 2025].set_index("comparator").loc["England", "value"].round(1)
np.float64(67.1)
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from cscflow import reference
from cscflow.analytics.funnel import FunnelPlot
from cscflow.errors import AnalysisError


def _scale(measure: str) -> float:
    return 10_000.0 if reference.MEASURES[measure][1] == "population" else 100.0


def compare(la: str, measure: str) -> pd.DataFrame:
    """The LA's value by year beside England, its region and its statistical neighbours (pooled:
    sum of counts over sum of denominators). Columns: year, comparator, count, denominator, value
    (per 10,000 children, or percent), units (LAs pooled)."""
    code = reference.la_code(la)
    df = reference.series(measure)
    df = df[df["count"].notna() & df["denominator"].notna() & (df["denominator"] > 0)]
    k = _scale(measure)
    sn = reference.statistical_neighbours(code)
    parts = [
        ("LA " + reference.la_name(code), df[(df["level"] == "la") & (df["code"] == code)]),
        ("England", df[df["level"] == "england"]),
        ("Region", df[(df["level"] == "region") & (df["code"] == reference.region_of(code))]),
        ("Statistical neighbours", df[(df["level"] == "la") & df["code"].isin(sn)]),
    ]
    rows = []
    for name, part in parts:
        g = part.groupby("year").agg(count=("count", "sum"), denominator=("denominator", "sum"),
                                     units=("code", "nunique")).reset_index()
        g["comparator"] = name
        rows.append(g)
    out = pd.concat(rows, ignore_index=True)
    out["value"] = k * out["count"] / out["denominator"]
    return out[["year", "comparator", "count", "denominator", "value", "units"]].sort_values(
        ["comparator", "year"]).reset_index(drop=True)


def la_funnel(measure: str, year: int, la: str | None = None, overdispersion: str | None = "auto",
              target: str = "england", limits: str = "discrete") -> FunnelPlot:
    """A funnel of every LA with published numbers for ``measure`` in ``year`` (suppressed LAs left
    out), around England's value (``target="england"``) or the pooled LAs (``"pooled"``);
    ``la`` highlighted and its statistical neighbours marked. Exact binomial / Poisson limits,
    widened by additive random effects when the LAs vary more than chance allows
    (``overdispersion="auto"``, the default; ``"none"``, ``"additive"``, ``"multiplicative"``);
    see :class:`FunnelPlot` and its ``method_``."""
    df = reference.series(measure, year=year)
    if df.empty:
        years = sorted(reference.series(measure)["year"].unique())
        raise AnalysisError(f"no {measure} figures for {year}", hint=f"years available: {years[0]}-{years[-1]}")
    las = df[(df["level"] == "la") & df["count"].notna() & df["denominator"].notna() & (df["denominator"] > 0)]
    kind = "rate" if reference.MEASURES[measure][1] == "population" else "proportion"
    tgt = None
    if target == "england":
        eng = df[df["level"] == "england"].iloc[0]
        tgt = float(eng["count"] / eng["denominator"]) * (10_000 if kind == "rate" else 1)
    names = reference.las().set_index("la")["la_name"]
    labels = [f"{c} {names.get(c, '')}".strip() for c in las["code"]]
    code = reference.la_code(la) if la else None
    label_of = dict(zip(las["code"], labels, strict=True))
    fp = FunnelPlot(kind, target=tgt, overdispersion=overdispersion, limits=limits,
                    target_name="England" if target == "england" else "pooled LAs'", unit_name="LAs")
    return fp.fit(
        las["count"].to_numpy(float), las["denominator"].to_numpy(float), labels=labels,
        highlight=label_of.get(code) if code else None,
        neighbours=[label_of[c] for c in reference.statistical_neighbours(code) if c in label_of] if code else None,
    )


def trend_figure(table: pd.DataFrame, title: str = "", value_title: str = "") -> Any:
    """Lines by comparator over years (from :func:`compare`)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, g in table.groupby("comparator", sort=False):
        fig.add_trace(go.Scatter(x=g["year"], y=g["value"], mode="lines+markers", name=name))
    fig.update_layout(title=title, xaxis_title="year ending 31 March", yaxis_title=value_title,
                      template="plotly_white")
    return fig


def legal_order_trends(ws: Any, by: str = "final_order_date") -> pd.DataFrame:
    """Shares of final orders by year (financial year ending 31 March) from the workspace's
    ``proceedings`` table: year, order, proceedings, share. Open proceedings are left out."""
    p = ws.table("proceedings")
    p = p.filter(p[by].notnull() & p.order.notnull())
    d = p[by].cast("date")
    year = (d.year() + ibis.ifelse(d.month() >= 4, 1, 0)).name("year")
    m = p.mutate(year=year)
    agg = m.group_by(["year", "order"]).aggregate(proceedings=m.count())
    df = ws.execute(agg)
    if df.empty:
        return pd.DataFrame(columns=["year", "order", "proceedings", "share"])
    df["share"] = df["proceedings"] / df.groupby("year")["proceedings"].transform("sum")
    return df.sort_values(["year", "order"]).reset_index(drop=True)


def rank_among(table: pd.DataFrame, value: str = "value") -> pd.Series:
    """Rank of each row's value (1 = highest), for tables of LAs."""
    return table[value].rank(ascending=False, method="min").astype(int)


